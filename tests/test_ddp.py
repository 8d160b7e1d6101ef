"""Multi-process training on PyTorch's own engine: `torchrun --nproc_per_node=2 -m lyra_nb train` (gloo, CPU) against
one process with the same global batch and the same DistributedSampler order (`lyra_train --sampler distributed`).
The two must give the same loss curve and final weights to float tolerance: DDP's gradient is the average of the two
processes' gradients, summed in another order than one process sums them. Marked slow: it starts three interpreters
(about 30 s on 2 cores); `make bench` runs it with `pytest --slow`."""
import json, subprocess, sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from lyra_nb.model import Lyra
from lyra_nb.data import toy_data

TORCHRUN = Path(sys.executable).with_name('torchrun')


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path, command, script_env):
    d = toy_data(240, seed=1)  # even, so that DistributedSampler repeats no sequence
    pd.DataFrame({'sequence': d.sequences, 'target': d.targets[:, 0]}).to_csv(tmp_path / 'train.csv', index=False)
    args = [tmp_path / 'train.csv', '--alphabet', 'dna', '--epochs', 3, '--batch_size', 32, '--lr', 0.01, '--seed', 2,
            '--dropout', 0, '--device', 'cpu', '--quiet']
    launcher = [str(TORCHRUN)] if TORCHRUN.exists() else [sys.executable, '-m', 'torch.distributed.run']
    ddp = subprocess.Popen([*launcher, '--standalone', '--nproc_per_node=2', '-m', 'lyra_nb', 'train', *map(str, args),
                            '--out', str(tmp_path / 'ddp')], env=script_env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    one = subprocess.run(command('lyra_train', *args, '--sampler', 'distributed', '--out', tmp_path / 'one'),
                         env=script_env, capture_output=True, text=True, timeout=600)
    ddp_out, ddp_err = ddp.communicate(timeout=600)
    assert one.returncode == 0, one.stderr
    assert ddp.returncode == 0, ddp_err
    assert ddp_out.count('run folder:') == 1  # only rank 0 reports (and writes)

    files = lambda folder: sorted(p.name for p in folder.iterdir())
    assert files(tmp_path / 'ddp') == files(tmp_path / 'one')
    h_ddp, h_one = (json.loads((tmp_path / f / 'history.json').read_text()) for f in ('ddp', 'one'))
    assert [r['epoch'] for r in h_ddp] == [1, 2, 3]
    for a, b in zip(h_ddp, h_one):
        assert a['lr'] == b['lr']
        for k in ('train_loss', 'valid_loss', 'valid_mse'): assert a[k] == pytest.approx(b[k], rel=1e-5), (k, a, b)
        for k in ('valid_spearman', 'valid_pearson', 'valid_r2'):
            assert a[k] == pytest.approx(b[k], abs=1e-4), (k, a, b)
    w_ddp, w_one = (Lyra.from_pretrained(tmp_path / f).state_dict() for f in ('ddp', 'one'))
    for k in w_one: torch.testing.assert_close(w_ddp[k], w_one[k], rtol=1e-4, atol=1e-5)
    assert any(not torch.equal(w_ddp[k], w_one[k]) for k in w_one)  # really two computations, not one file copied

"""Reliability checks that need real processes and real files: a training run killed with SIGKILL and resumed,
malicious pickles planted in model folders and checkpoints, corrupted weights, messy input through the commands, and
streamed prediction. Each console script runs in a fresh interpreter through conftest's `command` and `cli`
fixtures."""
import json, re, signal, subprocess, time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors import safe_open

from lyra_nb.cli import lyra_predict, lyra_train
from lyra_nb.data import read_sequences
from lyra_nb.runs import load_run
from lyra_nb.files import CorruptFileError
from lyra_nb.model import Lyra
from lyra_nb.train import CHECKPOINT_NAME, predict, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent

EPOCHS, KILL_AFTER = 10, 2


def checkpoint_epoch(path: Path) -> int:
    "The last epoch a checkpoint holds (0 when there is none yet), read from its header only."
    try:
        with safe_open(str(path), 'pt') as f: return json.loads(f.metadata()['lyra_nb.checkpoint'])['epoch']
    except Exception: return 0  # not written yet


def weights(folder: Path) -> dict:
    return Lyra.from_pretrained(folder).state_dict()


def without_seconds(folder: Path) -> list:
    return [{k: v for k, v in row.items() if k != 'seconds'}
            for row in json.loads((folder / 'history.json').read_text())]


@pytest.fixture(scope='module')
def runs(tmp_path_factory, command, cli, script_env, toy_csv):
    """Two copies of one training run, side by side: `straight` runs uninterrupted; `killed` gets SIGKILL once its
    checkpoint holds epoch KILL_AFTER, is refused as the folder of a new run, and is continued with
    `lyra_train --resume`."""
    tmp = tmp_path_factory.mktemp('runs')
    train = toy_csv(tmp / 'train.csv', 400, seed=1)
    args = [train, '--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna', '--epochs', EPOCHS, '--batch_size', 32,
            '--lr', 0.01, '--seed', 3, '--patience', 0, '--quiet']
    # alongside the killed run
    straight = subprocess.Popen(command('lyra_train', *args, '--out', tmp / 'straight'), env=script_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed, checkpoint = tmp / 'killed', tmp / 'killed' / CHECKPOINT_NAME
    proc = subprocess.Popen(command('lyra_train', *args, '--out', killed), env=script_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if checkpoint_epoch(checkpoint) >= KILL_AFTER:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (
        f"the run ended before it could be killed (exit {proc.returncode}):\n{err}")
    _, state = read_checkpoint(checkpoint)
    try: lyra_train.__wrapped__(*map(str, args[:1]), out=str(killed), seq_col='seq', target_col='y', alphabet='dna')
    except FileExistsError as e: refused = str(e)
    else: refused = None
    resumed = cli('lyra_train', '--resume', killed, '--quiet', timeout=600)
    _, err = straight.communicate(timeout=600)
    assert straight.returncode == 0, err
    return dict(tmp=tmp, killed_at=state['epoch'], killed_done=state['done'], refused=refused, resumed=resumed)


def test_sigkill_then_resume_matches_uninterrupted_run(runs):
    tmp = runs['tmp']
    assert KILL_AFTER <= runs['killed_at'] < EPOCHS and not runs['killed_done']
    straight, resumed = weights(tmp / 'straight'), weights(tmp / 'killed')
    assert straight.keys() == resumed.keys()
    for k in straight: torch.testing.assert_close(resumed[k], straight[k], rtol=0, atol=0)  # bit for bit
    assert without_seconds(tmp / 'killed') == without_seconds(tmp / 'straight')
    assert len(without_seconds(tmp / 'killed')) == EPOCHS
    assert (json.loads((tmp / 'killed' / 'metrics.json').read_text())
            == json.loads((tmp / 'straight' / 'metrics.json').read_text()))
    assert not list((tmp / 'killed').glob('.*.tmp'))  # no temporary file left by the killed write


def test_new_run_refuses_folder_of_unfinished_run(runs):
    assert (f"holds an unfinished run (epoch {runs['killed_at']} of {EPOCHS} done): "
            "continue it with `lyra_train --resume" in runs['refused'])


class Payload:
    "Unpickling this creates the file `marker`: a harmless stand-in for code an attacker would run."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (Path.touch, (Path(self.marker),))


def test_malicious_pickles_are_never_loaded(runs, tmp_path, toy_csv):
    marker = tmp_path / 'PWNED'
    torch.save({'x': Payload(marker)}, tmp_path / 'probe.pt')
    torch.load(tmp_path / 'probe.pt', weights_only=False)   # the payload works when unpickled...
    assert marker.exists()
    marker.unlink()

    folder = tmp_path / 'run'
    folder.mkdir()
    for name in ('config.json', 'data.json'): (folder / name).write_text((runs['tmp'] / 'straight' / name).read_text())
    torch.save({'encoder.weight': Payload(marker)}, folder / 'model.safetensors')  # a pickle under the expected name
    test_csv = toy_csv(tmp_path / 'test.csv', 20, seed=5)
    with pytest.raises(CorruptFileError, match='model.safetensors is not a readable safetensors file'):
        lyra_predict.__wrapped__(str(folder), str(test_csv), out=str(tmp_path / 'pred.csv'))
    with pytest.raises(CorruptFileError, match='pickles are never loaded'): Lyra.from_pretrained(folder)
    assert not marker.exists() and not (tmp_path / 'pred.csv').exists()

    # a pickle in place of the checkpoint of an unfinished run
    killed = tmp_path / 'killed'
    killed.mkdir()
    (killed / 'args.json').write_text((runs['tmp'] / 'killed' / 'args.json').read_text())
    torch.save({'state': Payload(marker)}, killed / CHECKPOINT_NAME)
    with pytest.raises(CorruptFileError, match='checkpoint.safetensors is not a readable safetensors file'):
        lyra_train.__wrapped__(resume=str(killed), quiet=True)
    with pytest.raises(CorruptFileError): read_checkpoint(killed / CHECKPOINT_NAME)
    assert not marker.exists()

    # pickles beside good weights are ignored, never opened
    good = tmp_path / 'good'
    good.mkdir()
    for name in ('config.json', 'data.json', 'model.safetensors'):
        (good / name).write_bytes((runs['tmp'] / 'straight' / name).read_bytes())
    for name in ('pytorch_model.bin', 'model.pt', 'optimizer.pt'): torch.save(Payload(marker), good / name)
    model, info = load_run(good, 'cpu')
    assert predict(model, read_sequences(test_csv, 'dna', 'seq')).shape == (20, 1)
    assert not marker.exists()


def test_package_never_unpickles():
    "No module calls torch.load without weights_only=True, nor pickle/joblib/numpy loaders that unpickle."
    for path in (ROOT / 'lyra_nb').glob('*.py'):
        code = path.read_text()
        for call in re.findall(r'torch\.load\([^)]*\)', code):
            assert 'weights_only=True' in call, f"{path.name}: {call}"
        for pattern in (r'pickle\.loads?\(', r'joblib\.load\(', r'allow_pickle\s*=\s*True', r'dill\.loads?\('):
            assert not re.search(pattern, code), f"{path.name} matches {pattern}"


def test_corrupted_weights_are_reported_and_nothing_written(runs, tmp_path, toy_csv):
    folder = tmp_path / 'run'
    folder.mkdir()
    for name in ('config.json', 'data.json', 'model.safetensors'):
        (folder / name).write_bytes((runs['tmp'] / 'straight' / name).read_bytes())
    good = (folder / 'model.safetensors').read_bytes()
    (folder / 'model.safetensors').write_bytes(good[:len(good) - 100])  # truncated
    test_csv = toy_csv(tmp_path / 'test.csv', 20, seed=5)
    with pytest.raises(CorruptFileError, match='model.safetensors is not a readable safetensors file'):
        lyra_predict.__wrapped__(str(folder), str(test_csv), out=str(tmp_path / 'pred.csv'))
    assert not (tmp_path / 'pred.csv').exists()
    (folder / 'model.safetensors').write_bytes(good[:-1] + bytes([good[-1] ^ 0x10]))  # one flipped bit
    with pytest.raises(CorruptFileError, match='model.safetensors is corrupted: its contents hash to'):
        load_run(folder, 'cpu')


def test_bad_row_stops_training_with_its_place(cli, tmp_path):
    # CRLF, case, blanks, U: fine
    rows = 'seq,y\r\n' + 'ACGT,1\r\n' * 30 + ' ACgt tt ,2\r\n' + 'ACGU,3\r\n' + 'ACGO,4\r\n'
    (tmp_path / 'bad.csv').write_bytes(rows.encode())
    out = cli('lyra_train', tmp_path / 'bad.csv', '--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna',
              '--out', tmp_path / 'run', '--quiet', ok=False, timeout=600)
    assert out.returncode == 2 and 'Traceback' not in out.stderr
    error = out.stderr.strip().splitlines()[0]                      # `lyra_train: error: ...`, then a hint
    assert error.startswith('lyra_train: error: ') and error.endswith(
        "bad.csv, line 34, column 'seq': unknown letter 'O' at position 4 for the dna alphabet")
    assert not (tmp_path / 'run').exists()  # nothing written


def test_streamed_prediction_in_input_order(runs, cli, tmp_path, toy_csv):
    n = 3000
    test_csv = toy_csv(tmp_path / 'many.csv', n, seed=6)
    cli('lyra_predict', runs['tmp'] / 'straight', test_csv, '--out', tmp_path / 'pred.csv', '--id_col', 'name',
        '--chunk_size', 700, '--batch_size', 128, timeout=600)
    pred, given = pd.read_csv(tmp_path / 'pred.csv'), pd.read_csv(test_csv)
    assert len(pred) == n and list(pred.id) == list(given.name) and pred.id.is_unique  # every row once, in order
    model, info = load_run(runs['tmp'] / 'straight', 'cpu')
    whole = torch.as_tensor(info['transform'].inverse(predict(model, read_sequences(test_csv, 'dna', 'seq'))[:, 0]),
                            dtype=torch.float32)  # one pass over the whole file, in measured units
    torch.testing.assert_close(torch.tensor(pred.prediction.values, dtype=torch.float32), whole, rtol=1e-5, atol=1e-5)

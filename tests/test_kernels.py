"""The fused CPU kernels as a user meets them through the commands: the same training with them and without, and
what happens on a machine where they cannot be built (no C compiler): one notice and the torch layers, or, when
they were asked for by name, a two-line error."""
import json

import pytest


@pytest.fixture(scope='module')
def data(tmp_path_factory, toy_csv):
    tmp = tmp_path_factory.mktemp('kernels')
    return toy_csv(tmp / 'train.csv', 120, seed=4)


def train(cli, data, out, env, ok=True):
    "lyra_train for 2 epochs on the toy file with extra environment variables."
    return cli('lyra_train', data, '--out', out, '--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna',
               '--epochs', 2, '--batch_size', 16, '--seed', 1, '--no_baselines', '--quiet', env=env, ok=ok)


def test_fused_and_torch_layers_train_the_same_model(tmp_path, cli, data):
    scores = {}
    for kernels in ('auto', 'torch'):
        train(cli, data, tmp_path / kernels, {'LYRA_NB_KERNELS': kernels})
        history = json.loads((tmp_path / kernels / 'history.json').read_text())
        scores[kernels] = [row['train_loss'] for row in history] + [row['valid_spearman'] for row in history]
    assert scores['auto'] == pytest.approx(scores['torch'], abs=1e-4)


def test_no_compiler_falls_back_with_one_notice(tmp_path, cli, data):
    env = {'CC': '/no/such/cc', 'LYRA_NB_KERNELS_CACHE': str(tmp_path / 'empty_cache')}
    out = train(cli, data, tmp_path / 'run', env)
    notices = [line for line in out.stderr.splitlines() if 'fused CPU kernels are unavailable' in line]
    assert len(notices) == 1 and notices[0].startswith('lyra_train: warning: '), out.stderr[-800:]
    assert 'cannot run the C compiler /no/such/cc' in notices[0] and 'Traceback' not in out.stderr
    assert (tmp_path / 'run' / 'model.safetensors').is_file()


def test_fused_by_name_without_compiler_is_a_user_error(tmp_path, cli, data):
    env = {'CC': '/no/such/cc', 'LYRA_NB_KERNELS_CACHE': str(tmp_path / 'empty_cache'), 'LYRA_NB_KERNELS': 'fused'}
    out = train(cli, data, tmp_path / 'run', env, ok=False)
    assert out.returncode == 2 and 'Traceback' not in out.stderr, out.stderr[-800:]
    assert out.stderr.startswith('lyra_train: error: cannot run the C compiler /no/such/cc')

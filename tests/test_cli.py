"""The console scripts as a user runs them: separate processes, real files. Train for two epochs on a generated
CSV with a test file, predict, evaluate, and read every --help. Each command runs through conftest's `cli` fixture
(a script file with the body of a setuptools console-script wrapper), so the test needs no `pip install`;
`test_console_scripts_declared` checks that settings.ini declares the entry points."""
import importlib, inspect, json
from pathlib import Path

import pandas as pd
import pytest
from fastcore.docments import docments
from fastcore.script import Param

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ('lyra_train', 'lyra_predict', 'lyra_evaluate')


@pytest.fixture(scope='module')
def run(tmp_path_factory, cli, toy_csv):
    "A run folder trained for 2 epochs on 200 toy sequences, with a 60-sequence test file."
    tmp = tmp_path_factory.mktemp('cli')
    toy_csv(tmp / 'train.csv', 200, seed=1)
    toy_csv(tmp / 'test.csv', 60, seed=2)
    out = cli('lyra_train', tmp / 'train.csv', '--out', tmp / 'run', '--seq_col', 'seq', '--target_col', 'y',
              '--alphabet', 'dna', '--epochs', 2, '--batch_size', 32, '--lr', 0.01, '--seed', 3,
              '--valid_frac', 0.2, '--test', tmp / 'test.csv', '--bidirectional', '--dropout', 0.1, '--quiet')
    return tmp, out


def test_train_writes_run_folder(run):
    tmp, out = run
    folder = tmp / 'run'
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        'config.json', 'model.safetensors', 'data.json', 'args.json', 'history.json', 'history.csv', 'metrics.json',
        'learning_curve.png', 'predicted_vs_measured.png', 'baselines.json', 'transform.json'])   # no checkpoint left
    config = json.loads((folder / 'config.json').read_text())
    assert (config['d_input'], config['d_output'], config['bidirectional'], config['dropout']) == (4, 1, True, 0.1)
    info = json.loads((folder / 'data.json').read_text())
    assert set(info.pop('letters')) == set('ACGT') and info == {
        'alphabet': 'dna', 'task': 'regression', 'seq_col': 'seq', 'target_col': 'y', 'sep': None, 'no_header': False,
        'pad_char': None, 'max_len': None, 'classes': None, 'train_lengths': [8, 16], 'pair_decoder': None}
    history = json.loads((folder / 'history.json').read_text())
    assert [row['epoch'] for row in history] == [1, 2]
    assert len(pd.read_csv(folder / 'history.csv')) == 2
    metrics = json.loads((folder / 'metrics.json').read_text())
    assert (metrics['n_train'], metrics['n_valid'], metrics['n_test']) == (160, 40, 60)
    assert metrics['metric'] == 'spearman' and metrics['best_epoch'] in (1, 2)
    assert metrics['epoch_kept'] == 2                    # 40 validation sequences are too few to choose: the last epoch
    assert metrics['valid']['spearman'] == pytest.approx(history[1]['valid_spearman'], abs=1e-9)   # the kept epoch's
    assert set(metrics['baselines']) == {'ridge_onehot', 'ridge_kmer'} and 'Lyra' in metrics['summary']
    baselines = json.loads((folder / 'baselines.json').read_text())
    assert set(baselines['ridge_onehot']['test']) == {'spearman', 'pearson', 'r2', 'mse'}
    assert json.loads((folder / 'transform.json').read_text())['kind'] == metrics['transform']
    assert set(metrics['test']) == {'spearman', 'pearson', 'r2', 'mse'}
    for png in ('learning_curve.png', 'predicted_vs_measured.png'):
        assert (folder / png).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert '"test"' in out.stdout


def test_predict_in_input_order(run, cli):
    tmp, _ = run
    cli('lyra_predict', tmp / 'run', tmp / 'test.csv', '--out', tmp / 'pred.csv', '--id_col', 'name')
    pred, given = pd.read_csv(tmp / 'pred.csv'), pd.read_csv(tmp / 'test.csv')
    assert list(pred.columns) == ['id', 'sequence', 'prediction']
    assert list(pred.id) == list(given.name) and list(pred.sequence) == list(given.seq)
    assert pred.prediction.notna().all() and pred.prediction.std() > 0


def test_ensemble_predicts_mean_and_spread(tmp_path, cli, toy_csv):
    toy_csv(tmp_path / 'train.csv', 120, seed=1)
    cli('lyra_train', tmp_path / 'train.csv', '--out', tmp_path / 'ens', '--seq_col', 'seq', '--target_col', 'y',
        '--alphabet', 'dna', '--epochs', 1, '--d_model', 16, '--d_state', 16, '--ensemble', 2, '--quiet')
    assert sorted(p.name for p in (tmp_path / 'ens').iterdir() if p.is_dir()) == ['member_0', 'member_1']
    cli('lyra_predict', tmp_path / 'ens', tmp_path / 'train.csv', '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert list(pred.columns) == ['id', 'sequence', 'prediction', 'prediction_sd']
    assert (pred.prediction_sd > 0).all()                # two seeds never agree exactly


def test_evaluate_matches_train_time_test_score(run, cli):
    tmp, _ = run
    out = cli('lyra_evaluate', tmp / 'run', tmp / 'test.csv', '--out', tmp / 'eval.json')
    scores = json.loads((tmp / 'eval.json').read_text())
    assert scores['n'] == 60 and json.loads(out.stdout) == scores
    test_metrics = json.loads((tmp / 'run' / 'metrics.json').read_text())['test']
    for name, value in test_metrics.items(): assert scores[name] == pytest.approx(value, rel=1e-6, abs=1e-9)


def squash(text: str) -> str:
    "`text` without any whitespace, so that line wrapping does not matter."
    return ''.join(text.split())


@pytest.mark.parametrize('name', COMMANDS)
def test_help_explains_every_option(name, cli):
    text = cli(name, '--help').stdout
    fn = getattr(importlib.import_module('lyra_nb.cli'), name).__wrapped__
    assert text.startswith('usage:') and squash(fn.__doc__) in squash(text)
    params = inspect.signature(fn).parameters
    comments = docments(fn)
    for param in params:
        assert comments[param], f"{name}: parameter {param} has no docment"
        assert squash(comments[param]) in squash(text), f"{name} --help does not explain {param}"
        # e.g. lyra_train's optional path
        positional = isinstance(params[param].annotation, Param) and not params[param].annotation.opt
        if params[param].default is not inspect.Parameter.empty and not positional:
            assert f'--{param}' in text, f"{name} --help lacks --{param}"


def test_console_scripts_declared(console_scripts):
    for name in COMMANDS:  # the entry points that turn a user's error into a message (lyra_nb.__main__)
        assert console_scripts.get(name) == ('lyra_nb.__main__', name), (
            f"settings.ini console_scripts lacks {name}=lyra_nb.__main__:{name}")


def test_user_errors_are_two_lines_not_a_traceback(tmp_path, cli):
    "A missing file, a bad option value and a GPU that is not there: `error:` naming the culprit, a hint, exit 2."
    (tmp_path / 'ok.csv').write_text('seq,y\nACGT,1\nAGGT,2\n')
    cases = {('lyra_train', tmp_path / 'missing.csv', '--out', tmp_path / 'x'): 'missing.csv',
             ('lyra_train', tmp_path / 'ok.csv', '--out', tmp_path / 'x', '--seq_col', 'sequence'): "'sequence'",
             ('lyra_train', tmp_path / 'ok.csv', '--out', tmp_path / 'x', '--ensemble', 0): '--ensemble',
             ('lyra_predict', tmp_path / 'no_run', tmp_path / 'ok.csv'): 'no_run'}
    for args, named in cases.items():
        out = cli(*args, ok=False)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 2, (args, out.returncode, out.stderr[-500:])
        assert 'Traceback' not in out.stderr and len(lines) == 2, (args, out.stderr)
        assert lines[0].startswith(f'{args[0]}: error: ') and named in lines[0], (args, lines[0])
        assert '--help' in lines[1] and '--debug' in lines[1]
    debug = cli('lyra_train', tmp_path / 'missing.csv', '--out', tmp_path / 'x', '--debug', ok=False)
    assert debug.returncode == 1 and 'Traceback (most recent call last)' in debug.stderr


def test_no_gpu_is_a_user_error(tmp_path, cli):
    import torch
    if torch.cuda.is_available(): pytest.skip('this machine has a GPU')
    (tmp_path / 'ok.csv').write_text('seq,y\n' + ''.join(f'ACGTA{c},{i}\n' for i, c in enumerate('ACGT' * 5)))
    out = cli('lyra_train', tmp_path / 'ok.csv', '--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna',
              '--out', tmp_path / 'x', '--device', 'cuda', ok=False)
    assert out.returncode == 2 and 'Traceback' not in out.stderr, out.stderr[-500:]
    assert "sees no CUDA GPU" in out.stderr and "use device 'cpu'" in out.stderr


def test_a_run_is_never_overwritten_silently(tmp_path, cli, toy_csv):
    "A second run into a folder holding one is refused and changes nothing; with --overwrite nothing stale remains."
    toy_csv(tmp_path / 'a.csv', 60, seed=1)
    toy_csv(tmp_path / 'b.csv', 80, seed=2)
    train = lambda csv, *more, ok=True: cli('lyra_train', csv, '--out', tmp_path / 'run', '--seq_col', 'seq',
                                            '--target_col', 'y', '--alphabet', 'dna', '--epochs', 1, '--d_model', 16,
                                            '--d_state', 16, '--no_baselines', '--quiet', *more, ok=ok)
    train(tmp_path / 'a.csv')
    cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'a.csv')                       # a report of the first model
    (tmp_path / 'run' / 'notes.txt').write_text('mine')
    before = {p.name: p.read_bytes() for p in (tmp_path / 'run').iterdir()}
    refused = train(tmp_path / 'b.csv', ok=False)
    assert refused.returncode == 2 and 'holds a finished run' in refused.stderr and '--overwrite' in refused.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / 'run').iterdir()} == before   # nothing touched
    train(tmp_path / 'b.csv', '--overwrite')
    after = {p.name for p in (tmp_path / 'run').iterdir()}
    assert 'evaluate_a.csv.json' in before and 'evaluate_a.csv.json' not in after     # the old model's report is gone
    assert 'notes.txt' in after                                                       # the user's file stays
    assert json.loads((tmp_path / 'run' / 'metrics.json').read_text())['n_train'] == 64   # the new run's (80 - 20%)


def test_outputs_share_one_file_mode(run):
    "Weights and checkpoints get the mode of every other output (the umask's), not 0600."
    tmp, _ = run
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp / 'run').iterdir() if p.is_file()}
    assert len(set(modes.values())) == 1, modes


def test_training_says_why_it_stopped(tmp_path, cli, toy_csv):
    "The last lines say why training stopped and what follows; a metric that never moved is warned about; --threads."
    toy_csv(tmp_path / 'a.csv', 60, seed=1)
    args = ('lyra_train', tmp_path / 'a.csv', '--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna',
            '--epochs', 2, '--d_model', 16, '--d_state', 16, '--no_baselines', '--threads', 1)
    out = cli(*args, '--out', tmp_path / 'run')
    assert 'fit: ran all 2 epochs; epoch ' in out.stdout and 'chosen, validation spearman' in out.stdout, out.stdout
    assert 'scoring the chosen model on validation' in out.stdout and 'writing the run folder' in out.stdout
    still = cli(*args, '--out', tmp_path / 'still', '--lr', 0)                  # nothing learns: the metric never moves
    assert 'never separated the validation set' in still.stderr, still.stderr[-500:]
    assert any(l.startswith('lyra_train: warning: the validation spearman was') for l in still.stderr.splitlines())
    assert 'UserWarning' not in still.stderr                                 # a warning is one line, not Python's two
    bad = cli(*args, '--out', tmp_path / 'bad', '--threads', 0, ok=False)
    assert bad.returncode == 2 and 'threads must be a positive integer, got 0' in bad.stderr


def test_separator_from_the_command_line(tmp_path, cli, toy_csv):
    "A semicolon file: without --sep the message says what the header suggests; with it, train, then predict alike."
    toy_csv(tmp_path / 'comma.csv', 60, seed=1)
    (tmp_path / 'semi.csv').write_text((tmp_path / 'comma.csv').read_text().replace(',', ';'))
    args = ('--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna', '--epochs', 1, '--d_model', 16,
            '--d_state', 16, '--no_baselines', '--quiet')
    guessed = cli('lyra_train', tmp_path / 'semi.csv', '--out', tmp_path / 'x', *args, ok=False)
    assert guessed.returncode == 2 and "are the fields separated by ';'? (sep=';', --sep ';')" in guessed.stderr
    cli('lyra_train', tmp_path / 'semi.csv', '--out', tmp_path / 'run', '--sep', ';', *args)
    assert json.loads((tmp_path / 'run' / 'data.json').read_text())['sep'] == ';'
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'semi.csv', '--out', tmp_path / 'pred.csv')   # the run's separator
    assert len(pd.read_csv(tmp_path / 'pred.csv')) == 60
    tab = cli('lyra_predict', tmp_path / 'run', tmp_path / 'comma.csv', '--sep', 'ab', ok=False)
    assert tab.returncode == 2 and "--sep takes one character" in tab.stderr


def test_inputs_unlike_the_training_data_are_named(run, cli):
    "Long sequences, odd letters and training sequences get one warning each, with counts; --strict refuses them."
    tmp, _ = run
    (tmp / 'odd.csv').write_text('seq\n' + 'A' * 40 + '\n' + 'AAAAAAAAAT\n' * 3)   # 1 very long; all but A rare
    out = cli('lyra_predict', tmp / 'run', tmp / 'odd.csv', '--out', tmp / 'odd_pred.csv')
    warnings = [l for l in out.stderr.splitlines() if l.startswith('lyra_predict: warning: ')]
    assert len(warnings) == 2, out.stderr
    assert '1 of 4 sequences are more than twice as long as the longest training sequence (16 letters)' in warnings[0]
    assert 'the letters differ from the training set' in warnings[1] and 'most common here AT' in warnings[1]
    strict = cli('lyra_predict', tmp / 'run', tmp / 'odd.csv', '--out', tmp / 'strict.csv', '--strict', ok=False)
    assert strict.returncode == 2 and '--strict refuses such a file' in strict.stderr
    assert not (tmp / 'strict.csv').exists()
    seen = cli('lyra_evaluate', tmp / 'run', tmp / 'train.csv', '--out', tmp / 'seen.json')
    assert '200 of 200 sequences were in the training set' in seen.stderr, seen.stderr
    clean = cli('lyra_evaluate', tmp / 'run', tmp / 'test.csv', '--out', tmp / 'clean.json')
    assert 'warning' not in clean.stderr, clean.stderr


def test_file_without_a_header_line(tmp_path, cli, toy_csv):
    "A headless file: the message says the first line looks like data; --no_header reads columns by position."
    toy_csv(tmp_path / 'named.csv', 60, seed=1)
    lines = (tmp_path / 'named.csv').read_text().splitlines()[1:]                 # name,seq,y without the header
    (tmp_path / 'bare.csv').write_text(''.join(l.split(',', 1)[1] + '\n' for l in lines))   # seq,y
    args = ('--alphabet', 'dna', '--epochs', 1, '--d_model', 16, '--d_state', 16, '--no_baselines', '--quiet')
    guessed = cli('lyra_train', tmp_path / 'bare.csv', '--out', tmp_path / 'x', *args, ok=False)
    assert guessed.returncode == 2 and 'the first line looks like data, not a header line' in guessed.stderr
    cli('lyra_train', tmp_path / 'bare.csv', '--out', tmp_path / 'run', '--no_header', '--seq_col', 1,
        '--target_col', 2, *args)
    assert json.loads((tmp_path / 'run' / 'metrics.json').read_text())['n_train'] == 48   # every line is a record
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'bare.csv', '--out', tmp_path / 'pred.csv')   # the run's way
    assert len(pd.read_csv(tmp_path / 'pred.csv')) == 60


# Issue 13's reading options, each through the real commands. A tiny model and one epoch: these check what is read,
# refused, reported and written, not what is learned.
TINY = ('--epochs', 1, '--d_model', 8, '--d_state', 8, '--no_baselines', '--quiet')


def refused(out, *named):
    "A user error: exit status 2, no traceback, `error:` naming everything in `named` (file, line, option, fix)."
    assert out.returncode == 2, (out.returncode, out.stderr[-800:])
    assert 'Traceback' not in out.stderr, out.stderr
    error = out.stderr.strip().splitlines()[0]
    assert ': error: ' in error, out.stderr
    for word in named: assert word in error, (word, error)
    return error


def warned(out, prog):
    "The `prog: warning:` lines of a command's stderr."
    return [l for l in out.stderr.splitlines() if l.startswith(f'{prog}: warning: ')]


def test_on_error_skip_reports_every_skipped_record(tmp_path, cli, toy_csv):
    "--on_error skip leaves bad records out of train, predict and evaluate, each listed in a report beside the output."
    toy_csv(tmp_path / 'good.csv', 60, seed=1)
    lines = (tmp_path / 'good.csv').read_text().splitlines()
    lines[3] = 'bad_3,ACGXT,0.5'                                     # line 4: a bad letter
    lines[7] = 'bad_7,ACGT,high'                                    # line 8: a bad target
    (tmp_path / 'messy.csv').write_text('\n'.join(lines) + '\n')
    args = ('--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna', *TINY)
    stopped = cli('lyra_train', tmp_path / 'messy.csv', '--out', tmp_path / 'no', *args, ok=False)
    refused(stopped, 'messy.csv, line 4', "column 'seq'", "unknown letter 'X'")
    assert not (tmp_path / 'no').exists()
    train = cli('lyra_train', tmp_path / 'messy.csv', '--out', tmp_path / 'run', *args, '--on_error', 'skip',
                '--test', tmp_path / 'messy.csv')
    report = pd.read_csv(tmp_path / 'run' / 'skipped.csv')
    assert list(report.columns) == ['file', 'line', 'reason', 'message']
    assert report.line.tolist() == [4, 8, 4, 8] and report.reason.tolist() == ['unknown letter', 'bad target'] * 2
    assert all(f.endswith('messy.csv') for f in report.file) and "non-numeric target 'high'" in report.message[1]
    [line] = warned(train, 'lyra_train')
    assert 'skipped 4 of 120 records of messy.csv (2 ' in line and '2 unknown letter' in line and '2 bad target' in line
    assert str(tmp_path / 'run' / 'skipped.csv') in line and 'Traceback' not in train.stderr
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert metrics['n_train'] + metrics['n_valid'] == 58 and metrics['n_test'] == 58
    assert json.loads((tmp_path / 'run' / 'args.json').read_text())['on_error'] == 'skip'

    pred = cli('lyra_predict', tmp_path / 'run', tmp_path / 'messy.csv', '--out', tmp_path / 'pred.csv',
               '--on_error', 'skip')
    assert len(pd.read_csv(tmp_path / 'pred.csv')) == 59 and 'wrote 59 predictions' in pred.stdout
    assert pd.read_csv(tmp_path / 'pred.skipped.csv').line.tolist() == [4]     # predict reads no target
    assert any('skipped 1 of 60 records' in l and 'pred.skipped.csv' in l for l in warned(pred, 'lyra_predict'))
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'good.csv', '--out', tmp_path / 'pred.csv')
    assert not (tmp_path / 'pred.skipped.csv').exists()                         # no stale list beside new output
    refused(cli('lyra_predict', tmp_path / 'run', tmp_path / 'messy.csv', '--out', tmp_path / 'p2.csv', ok=False),
            'messy.csv, line 4')
    assert not (tmp_path / 'p2.csv').exists()

    ev = cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'messy.csv', '--on_error', 'skip')
    scores = json.loads((tmp_path / 'run' / 'evaluate_messy.csv.json').read_text())
    assert (scores['n'], scores['n_skipped']) == (58, 2)
    assert len(pd.read_csv(tmp_path / 'run' / 'evaluate_messy.csv.skipped.csv')) == 2
    assert any('evaluate_messy.csv.skipped.csv' in l for l in warned(ev, 'lyra_evaluate'))
    refused(cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'messy.csv', '--on_error', 'ignore', ok=False),
            '--on_error takes raise', 'skip')


def three_line(path, records, tail='\n\n\n'):
    "Write (id, sequence, labels) records as a three-line file, ending in blank lines like the disorder sets."
    path.write_text(''.join(f'>{i}\n{s}\n{l}\n' for i, s, l in records) + tail)
    return path


def disorder_records(n, seed=0):
    "Toy per-residue records: a protein and a JSON list of 0/1 labels (1 on D, E, K, R)."
    rng = __import__('numpy').random.default_rng(seed)
    seqs = [''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), int(rng.integers(8, 16)))) for _ in range(n)]
    return [(f'p{k}', s, json.dumps([int(c in 'DEKR') for c in s])) for k, s in enumerate(seqs)]


def test_three_line_per_residue_file(tmp_path, cli):
    "The >id / sequence / label-list format trains, predicts and evaluates; its errors name the line and the format."
    path = three_line(tmp_path / 'disorder.txt', disorder_records(40))
    cli('lyra_train', path, '--task', 'per_position', '--out', tmp_path / 'run', *TINY)
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert metrics['n_train'] + metrics['n_valid'] == 40 and metrics['metric'] == 'auroc'
    cli('lyra_predict', tmp_path / 'run', path, '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert pred.sequence.tolist() == [s for _, s, _ in disorder_records(40)]      # the label lines are not sequence
    cli('lyra_evaluate', tmp_path / 'run', path, '--out', tmp_path / 'eval.json')
    assert json.loads((tmp_path / 'eval.json').read_text())['n'] == 40

    records = disorder_records(4)
    records[2] = ('p2', records[2][1], json.dumps([-1] * len(records[2][1])))     # -1 meant as "unlabelled"
    minus = three_line(tmp_path / 'minus.txt', records)
    refused(cli('lyra_train', minus, '--task', 'per_position', '--out', tmp_path / 'x', *TINY, ok=False),
            'minus.txt, line 9', "record 'p2'", 'three-line FASTA', 'label -1 at position 1 is not a class index',
            'null in a JSON list', "'?' in a string of labels")
    wrapped = tmp_path / 'wrapped.txt'
    wrapped.write_text(path.read_text().replace('\n>p1\n', '\n>p1\nMK\n', 1))
    refused(cli('lyra_train', wrapped, '--task', 'per_position', '--out', tmp_path / 'x', *TINY, ok=False),
            'wrapped.txt, line 4', "record 'p1'", '3 lines after the header', 'taken for three-line FASTA')
    plain = tmp_path / 'plain.fa'
    plain.write_text(''.join(f'>{i}\n{s}\n' for i, s, _ in records))
    refused(cli('lyra_train', plain, '--task', 'per_position', '--out', tmp_path / 'x', *TINY, ok=False),
            'plain.fa has no targets: it was read as FASTA', '--labels', 'three-line FASTA')


def test_unlabelled_marker_and_class_indices(tmp_path, cli, run):
    "-1 is refused where it is read, naming the line and the markers that mean unlabelled; --help says them too."
    (tmp_path / 'pos.csv').write_text('sequence,target\nMKVLA,"[0, 1, 0, 0, 1]"\nMKV,"[1, -1, 0]"\n')
    refused(cli('lyra_train', tmp_path / 'pos.csv', '--task', 'per_position', '--out', tmp_path / 'x', *TINY, ok=False),
            "pos.csv, line 3, column 'target'", 'label -1 at position 2 is not a class index', 'null', "'?'")
    (tmp_path / 'three.csv').write_text('sequence,target\nMKVLA,NNY?N\nMKV,"[0, 1, 2]"\n')     # classes N, Y: 0, 1
    refused(cli('lyra_train', tmp_path / 'three.csv', '--task', 'per_position', '--classes', 'NY', '--out',
                tmp_path / 'x', *TINY, ok=False), "three.csv, line 3", 'label 2 at position 3 is not a class index',
            'for the classes N, Y')
    tmp, _ = run
    (tmp_path / 'minus_one.csv').write_text('seq,y\nACGTAC,1\nACGGT,-1\n')       # a binary label of -1
    bin_run = tmp_path / 'bin'
    (tmp_path / 'bin.csv').write_text('seq,y\n' + ''.join(f'{s},{i % 2}\n' for i, s in enumerate(distinct_dna(40))))
    cli('lyra_train', tmp_path / 'bin.csv', '--task', 'binary', '--seq_col', 'seq', '--target_col', 'y',
        '--alphabet', 'dna', '--out', bin_run, *TINY)
    error = refused(cli('lyra_evaluate', bin_run, tmp_path / 'minus_one.csv', ok=False),
                    "minus_one.csv, line 3, column 'y'", "binary label '-1' is not 0 or 1", '--on_error skip')
    assert 'auroc' not in error                                    # refused when read, not after predicting
    for name in ('lyra_train', 'lyra_evaluate'):
        text = squash(cli(name, '--help').stdout)
        assert squash("'?' in a string of labels") in text and 'null' in text, name
    assert squash('never -1') in squash(cli('lyra_train', '--help').stdout)


def distinct_dna(n):
    "n different DNA sequences of 6 to 11 letters, the same every time."
    rng, seqs = __import__('numpy').random.default_rng(7), {}
    while len(seqs) < n: seqs[''.join(rng.choice(list('ACGT'), int(rng.integers(6, 12))))] = None
    return list(seqs)


def test_binary_labels_as_two_names(tmp_path, cli):
    "yes/no labels: without --classes the message says how to name them; with --classes no,yes they train and predict."
    words, seqs = ['no', 'yes'] * 20, distinct_dna(40)
    (tmp_path / 'yn.csv').write_text('seq,label\n' + ''.join(f'{s},{w}\n' for s, w in zip(seqs, words)))
    args = ('--task', 'binary', '--seq_col', 'seq', '--target_col', 'label', '--alphabet', 'dna', *TINY)
    refused(cli('lyra_train', tmp_path / 'yn.csv', '--out', tmp_path / 'x', *args, ok=False),
            "yn.csv, line 2, column 'label'", "binary label 'no' is not 0 or 1", '--classes no,yes', 'class 0')
    refused(cli('lyra_train', tmp_path / 'yn.csv', '--out', tmp_path / 'x', *args, '--classes', 'no,yes,maybe',
                ok=False), 'a binary task has two classes')
    cli('lyra_train', tmp_path / 'yn.csv', '--out', tmp_path / 'run', *args, '--classes', 'no,yes')
    assert json.loads((tmp_path / 'run' / 'data.json').read_text())['classes'] == 'no,yes'
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'yn.csv', '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert list(pred.columns) == ['id', 'sequence', 'logit', 'probability', 'class']
    assert set(pred['class']) <= {'no', 'yes'}
    cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'yn.csv', '--out', tmp_path / 'eval.json')
    assert json.loads((tmp_path / 'eval.json').read_text())['n'] == 40


def test_split_column(tmp_path, cli, toy_csv):
    "--split_col set,validation reads FLIP's split; a bad value names its line; --test beside it is refused."
    toy_csv(tmp_path / 'toy.csv', 80, seed=1)
    frame = pd.read_csv(tmp_path / 'toy.csv')
    frame['set'] = ['test' if k % 4 == 0 else 'train' for k in range(80)]
    frame['validation'] = [k % 4 == 1 for k in range(80)]
    frame.to_csv(tmp_path / 'flip.csv', index=False)
    args = ('--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna', *TINY)
    cli('lyra_train', tmp_path / 'flip.csv', '--split_col', 'set,validation', '--out', tmp_path / 'run', *args)
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert (metrics['n_train'], metrics['n_valid'], metrics['n_test']) == (40, 20, 20)
    frame.loc[5, 'set'] = 'training'                                            # line 7
    frame.to_csv(tmp_path / 'bad.csv', index=False)
    refused(cli('lyra_train', tmp_path / 'bad.csv', '--split_col', 'set,validation', '--out', tmp_path / 'x', *args,
                ok=False), "bad.csv, line 7, column 'set'", "split 'training' is not one of train, valid",
            'validation', 'test')
    refused(cli('lyra_train', tmp_path / 'flip.csv', '--split_col', 'set', '--test', tmp_path / 'toy.csv',
                '--out', tmp_path / 'x', *args, ok=False), '--split_col set', 'does not combine with --valid or --test')
    refused(cli('lyra_train', tmp_path / 'flip.csv', '--split_col', 'fold', '--out', tmp_path / 'x', *args, ok=False),
            "no column 'fold'")


def test_predictions_keep_the_sequence_as_given(run, cli):
    "RNA U (and lower case) under a DNA model: the output's sequence column is the input's, not the model's reading."
    tmp, _ = run
    (tmp / 'rna.csv').write_text('seq\nACGUACGUAC\nuuagcaguca\nACGTACGTAC\n')
    cli('lyra_predict', tmp / 'run', tmp / 'rna.csv', '--out', tmp / 'rna_pred.csv')
    pred = pd.read_csv(tmp / 'rna_pred.csv')
    assert pred.sequence.tolist() == ['ACGUACGUAC', 'uuagcaguca', 'ACGTACGTAC']
    assert pred.prediction[0] == pytest.approx(pred.prediction[2], abs=1e-6)   # U read as T


def test_finished_run_has_no_checkpoint_to_resume(run, cli, tmp_path, toy_csv):
    "A finished run's checkpoints are removed (kept with --keep_checkpoint); --resume on it says it is finished."
    tmp, _ = run
    assert not (tmp / 'run' / 'checkpoint.safetensors').exists()
    error = refused(cli('lyra_train', '--resume', tmp / 'run', ok=False), 'holds a finished run',
                    'nothing to resume', '--overwrite')
    assert 'checkpoint' in error
    toy_csv(tmp_path / 'a.csv', 60, seed=1)
    args = ('--seq_col', 'seq', '--target_col', 'y', '--alphabet', 'dna', *TINY)
    cli('lyra_train', tmp_path / 'a.csv', '--out', tmp_path / 'ens', *args, '--ensemble', 2)
    assert not list((tmp_path / 'ens').rglob('checkpoint.safetensors'))          # members' too
    cli('lyra_train', tmp_path / 'a.csv', '--out', tmp_path / 'kept', *args, '--keep_checkpoint')
    assert (tmp_path / 'kept' / 'checkpoint.safetensors').is_file()
    cli('lyra_train', '--resume', tmp_path / 'kept', '--quiet')                   # kept: rescored, written again
    cli('lyra_train', tmp_path / 'a.csv', '--out', tmp_path / 'kept', *args, '--overwrite')
    assert not (tmp_path / 'kept' / 'checkpoint.safetensors').exists()


def hairpins_jsonl(path, n, seed):
    "`n` toy hairpins as JSON lines {seq, structure}."
    from lyra_nb.data import toy_hairpins
    from lyra_nb.structure import pairs_to_dotbracket, partners_to_pairs
    d = toy_hairpins(n, seed)
    rows = [{'seq': s, 'structure': pairs_to_dotbracket(partners_to_pairs(t), len(s))}
            for s, t in zip(d.sequences, d.targets)]
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return path


def test_pairs_train_with_the_thermodynamic_prior_beside_rnafold(tmp_path, cli, toy_csv):
    "Pairs on RNA: the prior is on by default (ViennaRNA installed), RNAfold is a baseline, predict writes structures."
    pytest.importorskip('RNA')
    train, test = hairpins_jsonl(tmp_path / 'train.jsonl', 80, 0), hairpins_jsonl(tmp_path / 'test.jsonl', 20, 1)
    out = cli('lyra_train', train, '--test', test, '--task', 'pairs', '--alphabet', 'rna', '--seq_col', 'seq',
              '--target_col', 'structure', '--epochs', 2, '--d_model', 16, '--d_state', 16, '--out', tmp_path / 'run')
    assert "pair_prior True: RNAfold's pair probabilities" in out.stdout and 'lr 0.003' in out.stdout, out.stdout
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['pair_prior'] is True
    rnafold = json.loads((tmp_path / 'run' / 'baselines.json').read_text())['rnafold']
    assert rnafold['settings']['structure'] == 'minimum free energy' and 0 <= rnafold['test']['f1'] <= 1, rnafold
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert 'rnafold' in metrics['summary'] and 'test' in metrics, metrics['summary']
    decoder = json.loads((tmp_path / 'run' / 'data.json').read_text())['pair_decoder']     # chosen on validation
    assert decoder == metrics['pair_decoder'] and decoder['decoder'] in ('greedy', 'nested'), decoder
    evaluated = json.loads(cli('lyra_evaluate', tmp_path / 'run', test, '--seq_col', 'seq', '--target_col',
                               'structure').stdout)
    assert evaluated['f1'] == pytest.approx(metrics['test']['f1'], abs=1e-9)     # evaluate decodes as training chose
    cli('lyra_predict', tmp_path / 'run', test, '--seq_col', 'seq', '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert len(pred) == 20 and all(len(s) == len(q) for s, q in zip(pred.structure, pred.sequence))
    regression = cli('lyra_train', toy_csv(tmp_path / 'a.csv', 40, 1), '--seq_col', 'seq', '--target_col', 'y',
                     '--alphabet', 'dna', '--pair_prior', 'on', '--out', tmp_path / 'r', ok=False)
    refused(regression, '--pair_prior on', '--task pairs')

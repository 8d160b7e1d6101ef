"""Every task family from the command line: `lyra_train --task per_position|pairs` and paired inputs, on CSV, JSON-lines
and FASTA files, then `lyra_predict` and `lyra_evaluate` on the run folder, each in a fresh interpreter through
conftest's `cli` fixture."""
import gzip, json

import numpy as np
import pandas as pd
import pytest

from lyra_nb.data import pair_sequences, toy_hairpins, toy_sites
from lyra_nb.structure import dotbracket_to_pairs, pairs_to_dotbracket, partners_to_pairs

def label_string(row: np.ndarray) -> str:
    "Per-position 0/1 targets of one sequence as a digit string."
    return ''.join(str(int(v)) for v in row[~np.isnan(row)])


def test_per_position_csv(tmp_path, cli):
    for name, n, seed in (('train', 160, 0), ('test', 40, 1)):
        d = toy_sites(n, seed)
        frame = pd.DataFrame({'seq': d.sequences, 'sites': [label_string(r) for r in d.targets]})
        frame.to_csv(tmp_path / f'{name}.csv', index=False)
    cli('lyra_train', tmp_path / 'train.csv', '--out', tmp_path / 'run', '--task', 'per_position', '--alphabet', 'dna',
        '--seq_col', 'seq', '--target_col', 'sites', '--epochs', 2, '--batch_size', 32, '--lr', 0.005,
        '--test', tmp_path / 'test.csv', '--bidirectional', '--quiet')
    config = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert (config['task'], config['pooling'], config['d_output']) == ('per_position', 'none', 1)
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert metrics['metric'] == 'auroc' and set(metrics['test']) == {'auroc', 'auprc', 'mcc', 'accuracy', 'f1'}
    assert metrics['n_test'] == 40
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'test.csv', '--seq_col', 'seq', '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    test = pd.read_csv(tmp_path / 'test.csv')
    assert pred.sequence.tolist() == test.seq.tolist()
    probs = [json.loads(p) for p in pred.probabilities]
    assert [len(p) for p in probs] == test.seq.str.len().tolist() and all(0 <= v <= 1 for p in probs for v in p)
    cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'test.csv', '--out', tmp_path / 'eval.json')
    assert json.loads((tmp_path / 'eval.json').read_text())['auroc'] == pytest.approx(metrics['test']['auroc'])
    # -1 is no class of a 0/1 model: refused before anything is predicted, naming the file and the unlabelled marker
    rows = [json.dumps([-1] + [0] * (len(s) - 1)) for s in test.seq]
    pd.DataFrame({'seq': test.seq, 'sites': rows}).to_csv(tmp_path / 'minus.csv', index=False)
    bad = cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'minus.csv', '--out', tmp_path / 'bad.json', ok=False)
    assert bad.returncode == 2 and 'Traceback' not in bad.stderr, bad.stderr[-500:]
    error = bad.stderr.splitlines()[0]
    assert "minus.csv, line 2, column 'sites': label -1" in error and 'an unlabelled position is null' in error, error


def test_per_position_classes(tmp_path, cli):
    "Three classes written as symbols: the run keeps --classes and writes predicted classes with them."
    d = toy_hairpins(120, 0)
    structures = [pairs_to_dotbracket(partners_to_pairs(r), n) for r, n in zip(d.targets, d.lengths)]
    (tmp_path / 'ss.jsonl').write_text(''.join(json.dumps({'seq': s, 'label': t}) + '\n'
                                               for s, t in zip(d.sequences, structures)))
    cli('lyra_train', tmp_path / 'ss.jsonl', '--out', tmp_path / 'run', '--task', 'per_position', '--classes', '.()',
        '--alphabet', 'rna', '--seq_col', 'seq', '--target_col', 'label', '--epochs', 1, '--quiet')
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['d_output'] == 3
    assert json.loads((tmp_path / 'run' / 'data.json').read_text())['classes'] == '.()'
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'ss.jsonl', '--seq_col', 'seq', '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert [len(c) for c in pred.classes] == list(d.lengths) and set(''.join(pred.classes)) <= set('.()')


def test_pairs_jsonl(tmp_path, cli):
    for name, n, seed in (('train', 200, 0), ('test', 30, 1)):
        d = toy_hairpins(n, seed)
        lines = [json.dumps({'id': f'{name}{i}', 'seq': s, 'label': pairs_to_dotbracket(partners_to_pairs(r), len(s))})
                 for i, (s, r) in enumerate(zip(d.sequences, d.targets))]
        (tmp_path / f'{name}.jsonl.gz').write_bytes(gzip.compress(('\n'.join(lines) + '\n').encode()))
    cli('lyra_train', tmp_path / 'train.jsonl.gz', '--out', tmp_path / 'run', '--task', 'pairs', '--alphabet', 'rna',
        '--seq_col', 'seq', '--target_col', 'label', '--epochs', 2, '--batch_size', 32, '--lr', 0.005,
        '--test', tmp_path / 'test.jsonl.gz', '--bidirectional', '--quiet')
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert (metrics['metric'] == 'f1'
            and set(metrics['test']) == {'f1', 'precision', 'recall', 'f1_micro', 'token_f1_macro'})
    assert (tmp_path / 'run' / 'predicted_vs_measured.png').read_bytes()[:4] == b'\x89PNG'
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'test.jsonl.gz', '--seq_col', 'seq',
        '--out', tmp_path / 'pred.csv')
    pred = pd.read_csv(tmp_path / 'pred.csv')
    assert pred.id.tolist() == [f'test{i}' for i in range(30)]
    for s, structure, pairs in zip(pred.sequence, pred.structure, pred.pairs):        # each a valid structure
        assert len(structure) == len(s) and dotbracket_to_pairs(structure).tolist() == json.loads(pairs)
    cli('lyra_evaluate', tmp_path / 'run', tmp_path / 'test.jsonl.gz', '--out', tmp_path / 'eval.json')
    assert json.loads((tmp_path / 'eval.json').read_text())['f1'] == pytest.approx(metrics['test']['f1'])


def test_paired_fasta(tmp_path, cli):
    "Guide/target pairs as one aligned FIRST/SECOND record, alphabet dna+dna, binary labels in a labels file."
    rng = np.random.default_rng(0)
    records, labels = [], []
    for i in range(200):
        target = ''.join(rng.choice(list('ACGT'), 24)); guide = list(target[2:22]); k = int(rng.integers(0, 4))
        for p in rng.choice(20, k, replace=False): guide[p] = 'ACGT'[('ACGT'.index(guide[p]) + 1) % 4]
        records.append(f">pair{i}\n{pair_sequences(target, ''.join(guide), offset=2)}\n")
        labels.append(f"{int(k <= 1)}\n")
    (tmp_path / 'guides.fasta').write_text(''.join(records))
    (tmp_path / 'guides.txt').write_text(''.join(labels))
    cli('lyra_train', tmp_path / 'guides.fasta', '--labels', tmp_path / 'guides.txt', '--out', tmp_path / 'run',
        '--task', 'binary', '--alphabet', 'dna+dna', '--epochs', 2, '--quiet')
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['d_input'] == 8
    cli('lyra_predict', tmp_path / 'run', tmp_path / 'guides.fasta', '--out', tmp_path / 'pred.csv')
    assert len(pd.read_csv(tmp_path / 'pred.csv')) == 200
    (tmp_path / 'bad.fasta').write_text('>p0\nACGT/AC-X\n')
    (tmp_path / 'bad.txt').write_text('1\n')
    out = cli('lyra_train', tmp_path / 'bad.fasta', '--labels', tmp_path / 'bad.txt', '--out', tmp_path / 'bad',
              '--task', 'binary', '--alphabet', 'dna+dna', '--quiet', ok=False)
    assert out.returncode != 0 and "second sequence: unknown letter 'X' at position 4" in out.stderr


def test_bad_structure_names_the_row(tmp_path, cli):
    (tmp_path / 'ss.jsonl').write_text('{"seq": "GGGAAACCC", "label": "(((...)))"}\n'
                                       '{"seq": "GGGAAACCC", "label": "((...)))"}\n')
    out = cli('lyra_train', tmp_path / 'ss.jsonl', '--out', tmp_path / 'run', '--task', 'pairs', '--alphabet', 'rna',
              '--seq_col', 'seq', '--target_col', 'label', '--quiet', ok=False)
    assert (out.returncode != 0 and "ss.jsonl, line 2, key 'label'" in out.stderr
            and 'structure of 8 characters for a sequence of 9 letters' in out.stderr), out.stderr

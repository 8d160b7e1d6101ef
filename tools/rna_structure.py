"""The secondary-structure runs behind nbs/examples/rna_structure.ipynb, one entry per call.

    python tools/rna_structure.py rnafold                   # RNAfold: MFE structures; pair probabilities decoded
    python tools/rna_structure.py lyra_prior --epochs 5     # Lyra with the thermodynamic prior
    python tools/rna_structure.py lyra --epochs 5           # the same model without it
    python tools/rna_structure.py no_s4d_prior --epochs 5   # the prior model without its S4D layer

Each call scores the test split once and adds its entry (key DATASET/NAME) to
nbs/examples/results/rna_structure.json; a model's weights go to runs/rna_structure/DATASET/NAME. The data are
read from ../shared/data/rna_ss; RNAfold's folds are cached in $LYRA_THERMO_CACHE (default ~/.cache/lyra_nb/thermo).
"""
import argparse, gzip, json, os, time
from pathlib import Path

import numpy as np
import torch

from lyra_nb.baselines import rnafold_logits
from lyra_nb.cli import balanced_weights
from lyra_nb.data import RNA, SeqData, with_labels
from lyra_nb.files import read_json, write_json
from lyra_nb.metrics import choose_pair_decoder, evaluate_task
from lyra_nb.model import Lyra
from lyra_nb.thermo import ThermoCache
from lyra_nb.train import PAIR_BUDGET, fit, predict

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / 'shared' / 'data' / 'rna_ss'
RESULTS = ROOT / 'nbs' / 'examples' / 'results' / 'rna_structure.json'
RUNS = ROOT / 'runs' / 'rna_structure'
CACHE = Path(os.environ.get('LYRA_THERMO_CACHE', Path.home() / '.cache' / 'lyra_nb' / 'thermo'))
MODELS = {'lyra_prior': dict(pair_prior=True), 'lyra': dict(pair_prior=False),
          'no_s4d_prior': dict(pair_prior=True, n_s4d=0)}


def load(dataset: str, split: str) -> tuple:
    "One split: upper-cased sequences (letters outside the RNA alphabet, X I P, written N) with pair targets."
    records = [json.loads(line) for line in gzip.open(DATA / f'{dataset}_{split}.jsonl.gz', 'rt')]
    known, seqs, changed = set(RNA.symbols), [], 0
    for r in records:
        s = r['seq'].upper()
        t = ''.join(c if c in known else 'N' for c in s)
        changed += sum(a != b for a, b in zip(s, t))
        seqs.append(t)
    data = SeqData(seqs, None, 'rna', names=[f'{split}:{i + 1}' for i in range(len(records))],
                   source=f'{dataset}_{split}')
    return with_labels(data, [r['label'] for r in records], 'pairs'), changed


def thermo_cache(dataset: str, splits: dict) -> ThermoCache:
    "One in-memory cache holding RNAfold's folds of every split, folding (and saving) what the files lack."
    merged = ThermoCache()
    for split, data in splits.items():
        part = ThermoCache(CACHE / f'{dataset}_{split}.safetensors')
        if len(part) < len(set(data.sequences)):
            CACHE.mkdir(parents=True, exist_ok=True)
            part.update(data.sequences, progress=True, save_every=300)
        merged.folds.update(part.folds)
    return merged


def choose_decoder(logits: list, data: SeqData, canonical_choices=(False, True)) -> tuple:
    "`choose_pair_decoder` with and without the canonical filter; the best mean per-sequence F1 wins."
    choices = {c: choose_pair_decoder(data.targets, logits, sequences=data.sequences, canonical=c)
               for c in canonical_choices}
    rows = [dict(row, canonical=c) for c, choice in choices.items() for row in choice['sweep']]
    return rows, max(rows, key=lambda r: r['f1'])


def score_test(logits: list, test: SeqData, best: dict) -> dict:
    "The test split scored once with the decoder chosen on validation, and its subset of at most 200 nt."
    short = np.flatnonzero(test.lengths <= 200)
    args = dict(threshold=best['threshold'], decoder=best['decoder'], canonical=best['canonical'])
    return dict(test=evaluate_task('pairs', test.targets, logits, sequences=test.sequences, **args),
                test_le200=evaluate_task('pairs', test[short].targets, [logits[i] for i in short],
                                         sequences=test[short].sequences, **args))


def rounded(d: dict) -> dict: return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def save(key: str, value: dict):
    "Add one entry to the results JSON, keeping the others."
    results = read_json(RESULTS) if RESULTS.exists() else {}
    results[key] = value
    write_json(RESULTS, results)


def rnafold_rows(dataset: str, valid: SeqData, test: SeqData, cache: ThermoCache):
    "RNAfold's MFE structures, and its pair probabilities through each decoder (chosen on validation)."
    mfe_logits = lambda d: rnafold_logits(d, cache)
    bpp_logits = lambda d: rnafold_logits(d, cache, 'probabilities')
    start = time.perf_counter()
    mfe = dict(valid=evaluate_task('pairs', valid.targets, mfe_logits(valid)),
               **score_test(mfe_logits(test), test, dict(threshold=0.5, decoder='greedy', canonical=False)))
    save(f'{dataset}/rnafold_mfe', dict(seconds=round(time.perf_counter() - start, 1),
                                        **{k: rounded(v) for k, v in mfe.items()}))
    sweep, best = choose_decoder(bpp_logits(valid), valid, canonical_choices=(False,))
    save(f'{dataset}/rnafold_bpp', dict(decoder=best['decoder'], threshold=best['threshold'], valid=rounded(best),
                                        valid_sweep=[rounded(r) for r in sweep],
                                        **{k: rounded(v) for k, v in score_test(bpp_logits(test), test, best).items()}))
    print(f"{dataset} RNAfold: MFE test F1 {mfe['test']['f1']:.4f}; pair probabilities, {best['decoder']} at "
          f"{best['threshold']}: valid F1 {best['f1']:.4f}")


def train_model(name: str, dataset: str, train: SeqData, valid: SeqData, test: SeqData, cache: ThermoCache,
                epochs: int, batch_size: int, lr: float, seed: int, time_limit: float | None):
    "Train one model on the whole training split, choose the epoch and the decoder on validation, score test once."
    torch.manual_seed(seed)
    model = Lyra(d_input=4, task='pairs', bidirectional=True, dropout=0.1, **MODELS[name])
    if model.thermo is not None: model.thermo = cache
    pos_weight, _, why = balanced_weights('pairs', train)
    start = time.perf_counter()
    history = fit(model, train, valid, epochs=epochs, batch_size=batch_size, lr=lr, pos_weight=pos_weight,
                  pair_budget=PAIR_BUDGET, patience=None, seed=seed, time_limit=time_limit,
                  checkpoint_dir=RUNS / dataset / name)
    train_seconds = time.perf_counter() - start
    model.save_pretrained(RUNS / dataset / name)
    sweep, best = choose_decoder(predict(model, valid, pair_budget=PAIR_BUDGET), valid)
    scores = score_test(predict(model, test, pair_budget=PAIR_BUDGET), test, best)
    entry = dict(params=sum(p.numel() for p in model.parameters()), config=model.config.to_dict(),
                 train_rows=len(train), train_max_len=int(train.lengths.max()),
                 epochs=epochs, batch_size=batch_size, lr=lr, pos_weight=round(pos_weight, 3), pos_weight_rule=why,
                 pair_budget=PAIR_BUDGET, train_seconds=round(train_seconds, 1), best_epoch=history.best_epoch,
                 stopped_by_time=history.out_of_time, history=[rounded(r) for r in history.history],
                 decoder=best['decoder'], threshold=best['threshold'], canonical=best['canonical'],
                 valid=rounded(best), valid_sweep=[rounded(r) for r in sweep],
                 **{k: rounded(v) for k, v in scores.items()})
    save(f'{dataset}/{name}', entry)
    print(f"{dataset}/{name}: {entry['params']:,} parameters, {train_seconds:.0f} s, epoch {history.best_epoch}; "
          f"{best['decoder']} at {best['threshold']} (canonical {best['canonical']}): valid F1 {best['f1']:.4f}, "
          f"test F1 {scores['test']['f1']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('name', choices=['rnafold', *MODELS])
    parser.add_argument('--dataset', default='bprna', choices=['bprna', 'rnastralign'])
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--time_limit', type=float, default=None, help='seconds of training at most')
    parser.add_argument('--max_train_len', type=int, default=None,
                        help='leave longer training sequences out (one alone may need more memory than there is)')
    parser.add_argument('--threads', type=int, default=1)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    splits = {s: load(a.dataset, s) for s in ('train', 'valid', 'test')}
    data = {s: d for s, (d, _) in splits.items()}
    save(f'{a.dataset}/data', dict(**{s: len(d) for s, d in data.items()},
                                   letters_to_N={s: c for s, (_, c) in splits.items()},
                                   max_len={s: int(d.lengths.max()) for s, d in data.items()}))
    if a.name == 'rnafold': cache = thermo_cache(a.dataset, {s: data[s] for s in ('valid', 'test')})
    else: cache = thermo_cache(a.dataset, data) if MODELS[a.name]['pair_prior'] else None
    if a.name == 'rnafold': rnafold_rows(a.dataset, data['valid'], data['test'], cache)
    else:
        train = data['train'] if a.max_train_len is None else data['train'][data['train'].lengths <= a.max_train_len]
        train_model(a.name, a.dataset, train, data['valid'], data['test'], cache, a.epochs, a.batch_size, a.lr, a.seed,
                    a.time_limit)


if __name__ == '__main__':
    main()

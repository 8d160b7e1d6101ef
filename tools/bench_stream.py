"""`make bench`: stream-predict a million sequences with `lyra_predict` and report peak memory and throughput.

Writes N random protein sequences of length L (default 1,000,000 x 56) with ids r0, r1, ... to a CSV, saves a
default-size Lyra (random weights, seeded: throughput does not depend on training) as a run folder, and runs
`lyra_predict` on the file in a child process with one torch thread. The child's peak resident memory comes from
getrusage; the same command on a file 100 times smaller gives the baseline, so that bounded memory shows as two
nearly equal peaks. Then the output is read back row by row: every id exactly once, in input order, every prediction
finite, and a random sample of rows equal to the model run on those sequences in this process.

Usage: python tools/bench_stream.py [--n 1000000] [--length 56] [--chunk_size 65536] [--batch_size 512] [--json FILE]
"""
import argparse, csv, json, math, os, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
LETTERS = np.frombuffer(b'ACDEFGHIKLMNPQRSTVWY', dtype=np.uint8)


def write_sequences(path: Path, n: int, length: int, seed: int = 0, block: int = 100_000):
    "CSV with columns id, sequence: n random protein sequences of `length`, written block by block."
    rng = np.random.default_rng(seed)
    with open(path, 'w', newline='') as f:
        f.write('id,sequence\n')
        for start in range(0, n, block):
            m = min(block, n - start)
            seqs = LETTERS[rng.integers(0, 20, (m, length))].view(f'S{length}').ravel()  # (m,) byte strings
            f.writelines(f"r{start + i},{s.decode()}\n" for i, s in enumerate(seqs))


def make_run(folder: Path):
    "A run folder holding a default-size protein Lyra with seeded random weights."
    from lyra_nb.model import Lyra
    torch.manual_seed(0)
    Lyra(d_input=20).save_pretrained(folder)
    (folder / 'data.json').write_text(json.dumps({'alphabet': 'protein', 'task': 'regression', 'seq_col': 'sequence',
                                                  'target_col': None, 'pad_char': None, 'max_len': None}))


def predict_child(run: Path, data: Path, out: Path, chunk_size: int, batch_size: int) -> tuple:
    "Run lyra_predict in a child process: (wall seconds, peak RSS in MiB)."
    script = out.with_suffix('.py')
    script.write_text("import sys\nfrom lyra_nb.cli import lyra_predict\nsys.exit(lyra_predict())\n")
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    argv = [sys.executable, str(script), str(run), str(data), '--out', str(out), '--id_col', 'id',
            '--chunk_size', str(chunk_size), '--batch_size', str(batch_size), '--device', 'cpu']
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0: raise SystemExit(f"lyra_predict failed:\n{stderr}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def check_output(out: Path, data: Path, n: int, run: Path, sample: int = 2000, seed: int = 1) -> dict:
    "Every id once and in order, finite predictions, and a random sample equal to an in-process prediction."
    from lyra_nb.runs import load_run
    from lyra_nb.data import SeqData
    from lyra_nb.train import predict
    wanted = set(np.random.default_rng(seed).choice(n, sample, replace=False).tolist())
    picked = {}
    with open(out, newline='') as f:
        rows = csv.reader(f)
        assert next(rows) == ['id', 'sequence', 'prediction']
        count = 0
        for i, (rid, seq, value) in enumerate(rows):
            assert rid == f'r{i}', f"row {i} holds id {rid}: not in input order"
            assert math.isfinite(float(value)), f"row {i}: prediction {value}"
            if i in wanted: picked[i] = (seq, float(value))
            count += 1
    assert count == n, f"{count} predictions for {n} sequences"
    with open(data, newline='') as f:  # the output's sequences are the input's
        for i, (rid, seq) in enumerate(csv.reader(f)):
            if i - 1 in picked: assert picked[i - 1][0] == seq, (i, seq)
    model, _ = load_run(run, 'cpu')
    idx = sorted(picked)
    z = predict(model, SeqData([picked[i][0] for i in idx], alphabet='protein'))[:, 0]
    streamed = torch.tensor([picked[i][1] for i in idx], dtype=torch.float32)
    torch.testing.assert_close(streamed, z, rtol=1e-5, atol=1e-5)  # CSV keeps float32 to its last digit
    return {'rows': count, 'ids_in_order_once': True, 'sample_checked': len(idx)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=1_000_000)
    p.add_argument('--length', type=int, default=56)
    p.add_argument('--chunk_size', type=int, default=65536)
    p.add_argument('--batch_size', type=int, default=512)
    p.add_argument('--json', type=Path, default=None, help='also write the figures to this JSON file')
    args = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix='lyra_nb_stream_') as tmp:
        tmp = Path(tmp)
        make_run(tmp / 'run')
        small_n = max(1, args.n // 100)
        write_sequences(tmp / 'small.csv', small_n, args.length, seed=2)
        write_sequences(tmp / 'big.csv', args.n, args.length)
        _, small_rss = predict_child(tmp / 'run', tmp / 'small.csv', tmp / 'small_pred.csv', args.chunk_size,
                                     args.batch_size)
        seconds, rss = predict_child(tmp / 'run', tmp / 'big.csv', tmp / 'big_pred.csv', args.chunk_size,
                                     args.batch_size)
        checks = check_output(tmp / 'big_pred.csv', tmp / 'big.csv', args.n, tmp / 'run')
        result = {'sequences': args.n, 'length': args.length, 'chunk_size': args.chunk_size,
                  'batch_size': args.batch_size, 'torch_threads': 1, 'model_parameters': 47169,
                  'seconds': round(seconds, 1),
                  'sequences_per_second': round(args.n / seconds), 'peak_rss_mib': round(rss),
                  f'peak_rss_mib_{small_n}_sequences': round(small_rss),
                  'input_mib': round((tmp / 'big.csv').stat().st_size / 2**20),
                  'output_mib': round((tmp / 'big_pred.csv').stat().st_size / 2**20),
                  **checks}
    print(json.dumps(result, indent=2))
    if args.json: args.json.write_text(json.dumps(result, indent=2) + '\n')


if __name__ == '__main__':
    main()

"""Execute notebooks in place so that their saved outputs (plots, tables, metrics) are fresh.

Usage: python tools/run_nbs.py [--flags "slow cuda"] nbs/00_epistasis.ipynb [more.ipynb ...]

Each notebook runs top to bottom in its own folder, as under `nbdev_test`: `#| eval: false` cells are
skipped, and so are cells carrying a flag from `tst_flags` in settings.ini (`#| slow`, `#| cuda`) unless
that flag is passed with --flags. The first failing cell stops the run and the notebook is left
unchanged. Run `nbdev_clean` afterwards (the Makefile's `nbs` target does both).
"""
import argparse, configparser, os, sys, time
from pathlib import Path
from execnb.shell import CaptureShell
from execnb.nbio import read_nb, write_nb

ROOT = Path(__file__).resolve().parent.parent

def cell_flags(cell):
    "The `#| word` directives of a code cell, e.g. {'slow', 'export'}."
    return {l.split('|', 1)[1].strip().split(':')[0].strip() for l in cell.source.splitlines() if l.startswith('#|')}

def skipper(skipped_flags):
    "A preproc for `CaptureShell.run_all` that skips `eval: false` cells and cells with a skipped flag."
    def skip(cell):
        if cell.cell_type != 'code': return False
        no_eval = any(l.replace(' ', '').startswith('#|eval:false') for l in cell.source.splitlines())
        return no_eval or bool(cell_flags(cell) & skipped_flags)
    return skip

def run_notebook(path: Path, skipped_flags: set):
    "Run `path` in its folder and write the outputs back."
    path = path.resolve()
    nb = read_nb(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try: CaptureShell().run_all(nb, exc_stop=True, preproc=skipper(skipped_flags))
    finally: os.chdir(cwd)
    write_nb(nb, path)

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--flags', default='', help='space-separated tst_flags whose cells should run')
    parser.add_argument('notebooks', nargs='+')
    args = parser.parse_args()
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    skipped = set(cfg['DEFAULT'].get('tst_flags', '').split()) - set(args.flags.split())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for p in args.notebooks:
        t0 = time.time()
        run_notebook(Path(p), skipped)
        print(f"ran {p} in {time.time() - t0:.1f}s")

"""Shared pytest set-up: tests marked `slow` run only with `pytest --slow` (what `make bench` runs); fixtures that run
the console scripts and write toy data files."""
import configparser, os, subprocess, sys
from pathlib import Path

import pandas as pd
import pytest

from lyra_nb.data import toy_data


def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help='also run the tests marked slow (make bench)')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long test, skipped unless pytest runs with --slow (make bench)')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow'): return
    skip = pytest.mark.skip(reason='slow: run with pytest --slow (make bench)')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)


# Running the console scripts as a user does: each in a fresh interpreter, through a file holding the body of its
# setuptools entry point (`sys.exit(lyra_train())`, imported from where settings.ini points), so no `pip install`
# is needed. (`python -c "...; lyra_train()"` does not work: fastcore's `call_parse` parses the command line only
# when called from a module file.)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope='session')
def script_env():
    "The environment of every command a test starts: this checkout importable, no display, one torch thread."
    return {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}


@pytest.fixture(scope='session')
def console_scripts() -> dict:
    "The console scripts settings.ini declares: name -> (module, function)."
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini')
    return {name: tuple(target.split(':')) for name, target in
            (script.split('=') for script in cfg['DEFAULT'].get('console_scripts', '').split())}


@pytest.fixture(scope='module')
def command(tmp_path_factory, console_scripts):
    "`command(name, *args)` is the argv that runs console script `name` in a fresh interpreter."
    bin_dir = tmp_path_factory.mktemp('bin')
    def argv(name, *args):
        module, function = console_scripts[name]
        script = bin_dir / name
        script.write_text(f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n")
        return [sys.executable, str(script), *map(str, args)]
    return argv


@pytest.fixture(scope='module')
def cli(command, script_env):
    ("`cli(name, *args, ok=True, timeout=300, env=None)` runs console script `name` to the end, with `env` added to "
     "the environment; with `ok`, insists on exit status 0.")
    def run(name, *args, ok=True, timeout=300, env=None):
        out = subprocess.run(command(name, *args), env={**script_env, **(env or {})}, capture_output=True, text=True,
                             timeout=timeout)
        if ok: assert out.returncode == 0, f"{name} {args} exited {out.returncode}:\n{out.stderr}"
        return out
    return run


@pytest.fixture(scope='session')
def toy_csv():
    "`toy_csv(path, n, seed)` writes `n` sequences of `toy_data` as a CSV with columns name, seq, y and returns `path`."
    def write(path: Path, n: int, seed: int) -> Path:
        d = toy_data(n, seed=seed)
        frame = pd.DataFrame({'name': [f'{path.stem}_{i}' for i in range(n)], 'seq': d.sequences, 'y': d.targets[:, 0]})
        frame.to_csv(path, index=False)
        return path
    return write

#!/usr/bin/env bash
# The whole check suite behind `make test`. Expects the environment's bin/ first on PATH.
set -eu
cd "$(dirname "$0")/.."

echo "== drift: notebooks must be clean and exported =="
nbdev_clean
test -z "$(git status --porcelain -uno)" || { echo "FAIL: nbdev_clean changed tracked files; run it and commit"; git status --porcelain -uno; exit 1; }
nbdev_export
test -z "$(git status --porcelain)" || { echo "FAIL: nbdev_export changed files; never edit lyra_nb/*.py by hand"; git status --porcelain; exit 1; }

echo "== reading order: each module imports only modules of earlier notebooks =="
python tools/check_imports.py

echo "== lint: ruff (pyflakes, lines of at most 120 characters; ruff.toml) =="
ruff check --output-format concise .

echo "== pytest: tests/ =="
python -m pytest -q tests

echo "== nbdev_test: notebooks =="
# nbdev_test runs one notebook per core; one torch thread each avoids oversubscribing the cores.
rc=0; OMP_NUM_THREADS=1 nbdev_test --do_print > test.log 2>&1 || rc=$?; cat test.log
ran=$(grep -c '^- Completed ' test.log || true)
failed=$(sed -n '/Failed On The Following Notebooks/,$p' test.log | grep -c $'^\t' || true)
echo "nbdev_test: $((ran - failed)) passed, $failed failed"
[ "$ran" -gt 0 ] && [ "$rc" -eq 0 ]

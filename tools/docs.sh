#!/usr/bin/env bash
# Offline docs behind `make docs`: nbdev processes nbs/ into _proc/, pandoc renders _proc/ into docs/.
# No quarto needed (nbdev_docs still works where quarto is installed). Expects the venv's bin/ on PATH.
set -eu
cd "$(dirname "$0")/.."
rm -rf _proc
# nbdev_proc_nbs without its quarto check (else it tries to install quarto and pip-installs the project).
python -c "import nbdev.quarto as q; q._ensure_quarto = lambda: None; q.nbdev_proc_nbs.__wrapped__()"
python tools/render_docs.py

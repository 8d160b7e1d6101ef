"""Shared pytest set-up: tests marked `slow` run only with `pytest --slow` (what `make bench` runs)."""
import pytest


def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help='also run the tests marked slow (make bench)')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long test, skipped unless pytest runs with --slow (make bench)')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow'): return
    skip = pytest.mark.skip(reason='slow: run with pytest --slow (make bench)')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)

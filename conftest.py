"""Test-session defaults shared by ``tests/`` and the notebooks that nbval executes.

Tests and CI run the notebooks in fast mode (``COURSE_FAST=1``) without progress bars;
set ``COURSE_FAST=0`` to execute them as a reader would.
"""

import os

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("COURSE_PROGRESS", "0")

# Notebooks and nbgrader run in other working directories: make a relative data path
# absolute before they inherit it.
if os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = os.path.abspath(os.environ["COURSE_DATA_DIR"])


def pytest_collection_modifyitems(config, items):
    """Executing a lecture notebook (nbval) is an end-to-end test: mark it ``slow`` so that
    ``pytest -m "not slow"`` is the quick loop of unit tests."""
    import pytest

    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)

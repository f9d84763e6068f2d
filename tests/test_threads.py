"""The test session's kernels share the cores (tests/conftest.py): under pytest-xdist each worker's kernels
get the cores divided by the workers, in threads."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(not os.environ.get("PYTEST_XDIST_WORKER"), reason="only pytest-xdist's workers share the cores")
def test_each_workers_kernels_get_their_share_of_the_threads():
    share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        assert os.environ[name] == str(share), (name, os.environ[name], share)

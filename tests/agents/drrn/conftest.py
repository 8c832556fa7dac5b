"""DRRN tests run torch on one thread: the networks are tiny, and on a shared two-core machine
torch's intra-op threads only wait on each other."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

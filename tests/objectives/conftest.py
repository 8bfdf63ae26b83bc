"""One intra-op thread for these tests: their tensors are tiny, and with two threads every op waits
at a barrier for the other thread, which on a busy 2-core machine makes the suite several times slower."""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

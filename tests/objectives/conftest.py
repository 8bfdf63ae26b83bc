import pytest


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Tiny tensors throughout: see ``single_thread`` in tests/conftest.py."""
    yield

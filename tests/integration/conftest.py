"""pytest fixtures over gmtest.py."""
import pytest

import gmtest


@pytest.fixture
def world(tmp_path):
    w = gmtest.World(tmp_path)
    yield w
    w.close()


@pytest.fixture
def bare_world(tmp_path):
    """The service running and a configuration, but no token set up."""
    w = gmtest.World(tmp_path, days_left=None)
    yield w
    w.close()

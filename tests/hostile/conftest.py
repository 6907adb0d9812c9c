"""The hostile-service suite shares one reference service, one hostile
front and one template token for all its cases (suite.py)."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import suite as hostile_suite  # noqa: E402


@pytest.fixture(scope="session")
def suite(tmp_path_factory):
    s = hostile_suite.Suite(tmp_path_factory.mktemp("hostile"))
    yield s
    s.close()

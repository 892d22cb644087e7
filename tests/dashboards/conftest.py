"""Fixtures of the dashboard and report tests."""

from __future__ import annotations

import pytest

from tests.dashboards.sample import load_sample
from tests.support import make_settings


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dash-work"))
    expected = load_sample(settings)
    return settings, expected

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
# Extraction rejects access dates in the future; tests pin "today".
TODAY = _dt.date(2026, 11, 22)

# Property tests: a small run for every test run and CI, a long one on demand
# (HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_properties.py).
# No deadline: a shared CI machine is slow now and then, which is not a bug.
settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES

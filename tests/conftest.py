from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
# Extraction rejects access dates in the future; tests pin "today".
TODAY = _dt.date(2026, 11, 22)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES

"""Shared pytest fixtures: where the real instrument files live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def _real_data_dir() -> Path:
    env = os.environ.get("HYDROFW_REAL_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """``../shared/data/real`` (or $HYDROFW_REAL_DATA); tests using it skip when absent."""
    path = _real_data_dir()
    if not path.is_dir():
        pytest.skip(f"real instrument data not found at {path} (set HYDROFW_REAL_DATA)")
    return path

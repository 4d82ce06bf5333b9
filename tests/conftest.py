"""Fixtures shared by every test package: where the real game logs are."""

from __future__ import annotations

from pathlib import Path

import pytest

from bullpen.settings import Settings

GAMELOGS = Settings().gamelogs_dir


@pytest.fixture(scope="session")
def gamelogs_dir() -> Path:
    if not GAMELOGS.is_dir():
        pytest.skip(f"real game logs not found at {GAMELOGS}")
    return GAMELOGS

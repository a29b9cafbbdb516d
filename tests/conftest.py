"""Shared test wiring: tests/ on the import path, and the one fake GitHub for the whole suite."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakegithub import app_key, fake_github  # noqa: E402,F401  (pytest fixtures)

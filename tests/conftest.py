"""Shared test helpers: make the repository's tests/ importable as a package-less folder."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

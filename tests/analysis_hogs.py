"""Deliberately hostile analysers for tests of bot.analysis: each misbehaves on files named for it."""

from __future__ import annotations

import time

from rules.analyze import analyze_bytes
from rules.model import Finding, Options


def misbehave(path: str, data: bytes, options: Options) -> list[Finding]:
    """Spins on `spin`, allocates without end on `hog`, sleeps on `sleep`; otherwise the real analyser."""
    if "spin" in path:
        while True:
            pass
    if "hog" in path:
        chunks = []
        while True:
            chunks.append(bytearray(64 * 1024**2))
    if "sleep" in path:
        time.sleep(3600)
    return analyze_bytes(path, data, options)

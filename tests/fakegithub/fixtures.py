"""Ways to run the fake: an async context manager, pytest fixtures, a thread of its own for benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .keys import AppKey, shared_app_key
from .server import FakeGitHub


@contextlib.asynccontextmanager
async def running_fake(workdir: Path, **options: Any) -> AsyncIterator[FakeGitHub]:
    """A started FakeGitHub (OPTIONS go to its constructor), closed on exit."""
    fake = FakeGitHub(workdir, **options)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def app_key() -> AppKey:
    """The process-wide test RSA key pair."""
    return shared_app_key()


@pytest.fixture
async def fake_github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    """A running fake GitHub with no installations or repositories yet."""
    async with running_fake(tmp_path / "github") as fake:
        yield fake


@contextlib.contextmanager
def fake_in_thread(workdir: Path, **options: Any) -> Iterator[tuple[FakeGitHub, asyncio.AbstractEventLoop]]:
    """A started FakeGitHub on its own event loop in a daemon thread, and that loop: for
    benchmarks, so that the fake's work is not counted in the App's own timings."""
    loop = asyncio.new_event_loop()
    ready: queue.Queue[FakeGitHub] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        async with running_fake(workdir, **options) as fake:
            ready.put(fake)
            while not stop.is_set():
                await asyncio.sleep(0.01)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.get(timeout=60), loop
    finally:
        stop.set()
        thread.join(timeout=30)

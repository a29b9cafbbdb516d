"""How long a test waits for an event before calling it lost: generous, because a busy machine is slow, not broken.

Every wait polls (or blocks) until the event itself, so an idle machine never waits this long;
only a thing that never happens does. One number for the suite, raised with UNROOT_TEST_PATIENCE
on a very slow machine.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable


def patience() -> float:
    """Seconds to wait for an event (UNROOT_TEST_PATIENCE, default 180)."""
    return float(os.environ.get("UNROOT_TEST_PATIENCE", "180"))


PATIENCE = patience()


async def until(condition: Callable[[], Awaitable[bool]], what: str, bound: float = PATIENCE) -> None:
    """Poll `condition` until it holds; fail saying `what` did not happen within `bound` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {bound:g} s")
        await asyncio.sleep(0.05)

"""`unroot worker`: runs jobs from the Redis queue until SIGTERM; no webhooks, optional status port."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from aiohttp import web

from bot.config import AppSettings
from bot.observability import configure_logging_from_env
from bot.runtime import Runtime, make_queue
from bot.status import make_status_app

log = logging.getLogger(__name__)


async def work(
    settings: AppSettings, stop: asyncio.Event, status_port: int | None = None, host: str = "0.0.0.0"
) -> None:
    """Run jobs until `stop` is set, then drain: running jobs get the grace period, and what is
    still running after it goes back to the queue for another worker."""
    runtime = Runtime(settings, make_queue(settings, run_jobs=True))
    configure_logging_from_env(runtime.redactor, os.environ)
    runner: web.AppRunner | None = None
    await runtime.open()
    try:
        if status_port is not None:
            runner = web.AppRunner(make_status_app(runtime), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, status_port).start()
        log.info("worker started", extra={"workers": settings.workers, "installation_jobs": settings.installation_jobs})
        await stop.wait()
        log.info("worker stopping", extra={"grace": settings.shutdown_grace})
    finally:
        await runtime.close()
        if runner is not None:
            await runner.cleanup()


def run(settings: AppSettings, status_port: int | None = None, host: str = "0.0.0.0") -> None:
    """The process: SIGTERM or SIGINT starts the drain."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await work(settings, stop, status_port, host)

    asyncio.run(main())

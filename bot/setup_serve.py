"""Serving the setup page until the App is registered, then the App itself, on the same listening socket."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_runner import GracefulExit

from bot.config import AppSettings
from bot.server import HEADER_TIMEOUT, guarded, run_until_stopped
from bot.setup_page import SetupFlow, make_setup_app


def _raise_graceful_exit() -> None:
    raise GracefulExit()


async def _serve(
    flow: SetupFlow, make_app: Callable[[AppSettings], web.Application], host: str, port: int, header_timeout: float
) -> None:
    """The setup page until `flow` resolves; then the App, without closing the socket (so --port 0 keeps its port)."""
    setup = web.AppRunner(make_setup_app(flow), handle_signals=True, access_log=None, keepalive_timeout=header_timeout)
    await setup.setup()
    assert setup.server is not None
    serving: list[web.Server] = [setup.server]
    listener = await asyncio.get_running_loop().create_server(
        guarded(lambda: serving[0](), header_timeout), host, port, reuse_address=True, backlog=128
    )
    runners = [setup]  # the ones to clean up when stopped
    try:
        settings = await flow.outcome()
        runner = web.AppRunner(make_app(settings), access_log=None, keepalive_timeout=header_timeout)
        await runner.setup()
        runners.append(runner)
        assert runner.server is not None
        serving[0] = runner.server  # new connections reach the App from here on
        runners.remove(setup)
        await setup.cleanup()  # finishes the setup page's last answer; also drops aiohttp's signal handlers
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, _raise_graceful_exit)
        await asyncio.Event().wait()
    finally:
        listener.close()
        await listener.wait_closed()
        for left in runners:
            await left.cleanup()


def run_setup(
    flow: SetupFlow,
    make_app: Callable[[AppSettings], web.Application],
    host: str,
    port: int,
    header_timeout: float = HEADER_TIMEOUT,
) -> None:
    """Serve the setup page, then the App it registered, until SIGTERM or SIGINT."""
    run_until_stopped(lambda: _serve(flow, make_app, host, port, header_timeout))

"""Serving the app: aiohttp's runner, with a deadline for the request headers of every connection.

aiohttp bounds the size of headers but not the time a client takes to send them, so a client
that sends a byte every few seconds (slowloris) holds a connection, and its memory, for ever.
Every connection here must deliver its first complete header block within `header_timeout`
seconds of opening; between requests, aiohttp's keep-alive timer (set to the same time) closes
an idle or dribbling connection. Bodies have their own deadline in the webhook handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from aiohttp.web_runner import GracefulExit

log = logging.getLogger(__name__)
HEADER_TIMEOUT = 10.0
MAX_HEADER_BYTES = 64 * 1024  # aiohttp refuses more anyway (128 fields of 8 KB): stop watching


class _HeaderDeadline(asyncio.Protocol):
    """Wraps aiohttp's protocol: closes the connection when the header block is not complete in time."""

    def __init__(self, inner: asyncio.Protocol, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(self._timeout, self._expire)
        self._inner.connection_made(transport)

    def _expire(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            log.info("closing a connection that sent no complete request headers in %.0f s", self._timeout)
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            self._head = (self._head + data)[-MAX_HEADER_BYTES:]
            if b"\r\n\r\n" in self._head or b"\n\n" in self._head:
                self._timer.cancel()
                self._timer = None
                self._head = b""
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def guarded(factory: Callable[[], Any], timeout: float) -> Callable[[], asyncio.Protocol]:
    def make() -> asyncio.Protocol:
        return _HeaderDeadline(factory(), timeout)

    return make


async def start(
    app: web.Application, host: str, port: int, header_timeout: float = HEADER_TIMEOUT, handle_signals: bool = False
) -> tuple[web.AppRunner, asyncio.Server]:
    """Set the app up and listen; returns the runner and the listening server (close both to stop)."""

    # Between requests of a kept-alive connection, aiohttp's own keep-alive timer closes it.
    runner = web.AppRunner(app, handle_signals=handle_signals, access_log=None, keepalive_timeout=header_timeout)
    await runner.setup()
    assert runner.server is not None
    listener = await asyncio.get_running_loop().create_server(
        guarded(runner.server, header_timeout),
        host,
        port,
        reuse_address=True,
        backlog=128,
    )
    return runner, listener


async def stop(runner: web.AppRunner, listener: asyncio.Server) -> None:
    """Stop listening, then let aiohttp finish open requests and run the app's clean-up (the queue drain)."""
    listener.close()
    await listener.wait_closed()
    await runner.cleanup()


def run(app: web.Application, host: str, port: int, header_timeout: float = HEADER_TIMEOUT) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully (like aiohttp's run_app)."""

    async def serve() -> None:
        runner, listener = await start(app, host, port, header_timeout, handle_signals=True)
        try:
            await asyncio.Event().wait()
        finally:
            await stop(runner, listener)

    run_until_stopped(serve)


def run_until_stopped(serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `serve` on a new event loop until SIGTERM or SIGINT (GracefulExit), then let its clean-up run."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(serve())
    try:
        loop.run_until_complete(main)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

"""Faults the fake injects before it answers: scripted ones, random ones, held requests, lost answers."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .replies import Reply

SECONDARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
PRIMARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class Fault:
    """An injected answer for the next N matching requests."""

    remaining: int
    status: int
    body: dict[str, Any]
    headers: Callable[[], dict[str, str]]
    method: str | None = None
    path: re.Pattern[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or bool(self.path.search(path))


@dataclass
class Hold:
    """A request held until released (from any thread): a write that is still "on the wire"
    when its client dies. Released after its client went away, it is dropped, not applied."""

    method: str | None
    path: re.Pattern[str] | None
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    dropped: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or bool(self.path.search(path))

    def release(self) -> None:
        self.released.set()


def secondary_limit_body() -> dict[str, Any]:
    """GitHub's answer to a secondary rate limit."""
    return {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
        "If you reach out to GitHub Support for help, please include the request ID FAKE:0000.",
        "documentation_url": SECONDARY_DOC,
    }


class FaultInjection:
    """The fault-injection half of FakeGitHub: what goes wrong with the next requests.

    Each fault consumes one matching request and is answered before authentication; METHOD
    and PATH (a regex searched in the path without the /api/v3 prefix) filters are optional.
    """

    def __init__(self) -> None:
        self.rate_limit_total = 5000  # per installation and hour, reported in x-ratelimit-* headers
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.lost_answers: list[Fault] = []
        self.fault_rates: dict[str, float] = {}  # e.g. {"502": 0.05, "secondary": 0.01}
        self.fault_random = random.Random(0)
        self.fault_exempt: re.Pattern[str] | None = re.compile(r"^/app/installations/[^/]+/access_tokens$")
        self.fault_retry_after: float = 1
        self.random_faults: Counter[str] = Counter()

    def fail_next(
        self,
        n: int = 1,
        status: int = 502,
        *,
        method: str | None = None,
        path: str | None = None,
        message: str = "Server Error",
    ) -> None:
        """Answer the next N matching requests with STATUS and {"message": MESSAGE}."""
        self.faults.append(
            Fault(n, status, {"message": message}, dict, method, re.compile(path) if path is not None else None)
        )

    def rate_limit_next(
        self,
        n: int = 1,
        retry_after: float = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int = 403,
    ) -> None:
        """A secondary rate limit on the next N matching requests: 403 (or 429) with retry-after."""

        def headers() -> dict[str, str]:
            return {"retry-after": str(int(retry_after) if float(retry_after).is_integer() else retry_after)}

        self.faults.append(
            Fault(n, status, secondary_limit_body(), headers, method, re.compile(path) if path is not None else None)
        )

    def primary_rate_limit_next(
        self, n: int = 1, reset_in: float = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The primary limit on the next N matching requests: 403, x-ratelimit-remaining 0, reset in RESET_IN s."""

        def headers() -> dict[str, str]:
            return {
                "x-ratelimit-limit": str(self.rate_limit_total),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": str(self.rate_limit_total),
                "x-ratelimit-reset": str(int(time.time() + reset_in + 0.999)),
                "x-ratelimit-resource": "core",
            }

        body = {
            "message": "API rate limit exceeded for installation. If you reach out to GitHub Support for help, "
            "please include the request ID FAKE:0000.",
            "documentation_url": PRIMARY_DOC,
        }
        self.faults.append(Fault(n, 403, body, headers, method, re.compile(path) if path is not None else None))

    def lose_answer_next(self, n: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """Apply the next N matching requests, then drop the connection without answering: a
        write that GitHub made but whose answer the client never got (a proxy timeout, a reset)."""
        self.lost_answers.append(Fault(n, 0, {}, dict, method, re.compile(path) if path is not None else None))

    def graphql_error_next(
        self, n: int = 1, type_: str = "FORBIDDEN", message: str = "Resource not accessible by integration"
    ) -> None:
        """Answer the next N GraphQL requests 200 with `errors` of TYPE and no data, as GitHub does
        for NOT_FOUND, FORBIDDEN, RATE_LIMITED, and for queries that do not validate."""
        body = {"data": None, "errors": [{"type": type_, "message": message, "locations": [{"line": 1, "column": 1}]}]}
        self.faults.append(Fault(n, 200, body, dict, "POST", re.compile(r"^/graphql$")))

    def hold_next(self, *, method: str | None = None, path: str | None = None) -> Hold:
        """Hold the next matching request until `release()`; a request whose client has gone by
        then is answered 499 and not applied."""
        hold = Hold(method, re.compile(path) if path is not None else None)
        self.holds.append(hold)
        return hold

    async def _wait_on_hold(self, hold: Hold, request: web.Request) -> bool:
        """True when the held request's client is still there once released."""
        hold.arrived.set()
        while not hold.released.is_set():
            await asyncio.sleep(0.01)
        transport = request.transport
        hold.dropped = transport is None or transport.is_closing()
        return not hold.dropped

    def clear_faults(self) -> None:
        """Drop all pending injected faults."""
        self.faults.clear()

    def _random_fault(self, path: str) -> Reply | None:
        """A fault drawn at `fault_rates` (one draw per request not matching `fault_exempt`)."""
        if not self.fault_rates or (self.fault_exempt is not None and self.fault_exempt.search(path)):
            return None
        if sum(self.fault_rates.values()) > 1 or min(self.fault_rates.values()) < 0:
            raise ValueError(f"fault_rates must be >= 0 and sum to <= 1: {self.fault_rates}")
        draw = self.fault_random.random()
        for key, rate in self.fault_rates.items():
            if draw >= rate:
                draw -= rate
                continue
            self.random_faults[key] += 1
            if key == "secondary":
                retry = self.fault_retry_after
                return Reply(
                    403,
                    secondary_limit_body(),
                    {"retry-after": str(int(retry) if float(retry).is_integer() else retry)},
                )
            if not key.isdigit() or int(key) < 400:
                raise ValueError(f'fault_rates key {key!r}: use "secondary" or an HTTP status >= 400')
            return Reply(int(key), {"message": "Server Error"})
        return None

    def _take_fault(self, method: str, path: str) -> Reply | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return Reply(fault.status, dict(fault.body), fault.headers())
        return None

"""Constants and small helpers every part of the fake shares: URLs, GitHub's limits, ids, timestamps."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

API_DOCS = "https://docs.github.com/rest"
HTML_ROOT = "https://github.invalid"
GHES_PREFIX = "/api/v3"
CONTENTS_LIMIT = 1024 * 1024
BLOB_LIMIT = 100 * 1024 * 1024
MAX_PR_FILES = 3000
MAX_COMPARE_FILES = 300
MAX_COMPARE_COMMITS = 250
MAX_BODY = 65536
DEFAULT_PERMISSIONS = {"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "write"}
APP_EVENTS = ["check_run", "check_suite", "pull_request", "push"]
JSONValue = Any


def iso(t: float) -> str:
    """ISO 8601 UTC with a Z, whole seconds, as GitHub writes timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def b64(data: bytes) -> str:
    """Base64 with a newline every 60 characters and at the end, as the contents/blobs APIs send it."""
    flat = base64.b64encode(data).decode()
    return "".join(flat[i : i + 60] + "\n" for i in range(0, len(flat), 60))


def node_id(prefix: str, number: int) -> str:
    """A GraphQL-style global node id."""
    return f"{prefix}_kwDOfake{base64.urlsafe_b64encode(str(number).encode()).decode().rstrip('=')}"


def to_sentence(items: Sequence[str]) -> str:
    """Rails' Array#to_sentence, which GitHub uses to join validation messages."""
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def same_login(a: str, b: str) -> bool:
    """Whether two logins name one account (case-insensitive; "app" and "app[bot]" alike)."""
    return a.lower().removesuffix("[bot]") == b.lower().removesuffix("[bot]")


def ids(start: int = 1) -> Callable[[], int]:
    """A counter: each call returns the next number from START."""
    counter = itertools.count(start)
    return lambda: next(counter)


def parse_time(value: Any) -> float | None:
    """The epoch seconds of an ISO 8601 timestamp, None when VALUE is not a string."""
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value).timestamp()


def int_or(value: str | None, default: int) -> int:
    """VALUE as an int, DEFAULT when absent or not a number (path and query parameters)."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default

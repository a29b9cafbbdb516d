"""Hostile webhook deliveries: bad signatures, bad bodies, and every field a handler reads set wrong.

Shared by tests/test_webhook_hostile.py (in-process, over real HTTP) and tools/probe_webhooks.py
(against a `unroot serve` process). Every case says which answers are acceptable; none may be 500.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "data" / "webhooks"
HUGE_FLOAT = "__HUGE_FLOAT__"  # replaced by the raw JSON text 1e400 (a float Python reads as inf)
HUGE_INT = "__HUGE_INT__"  # replaced by a 5,000-digit integer (over Python's int-from-text limit)

BAD_VALUES: list[object] = [None, 0, -1, 2**70, 1.5, "x", "", "a" * 5000, True, [], {}, {"x": 1}, HUGE_FLOAT, HUGE_INT]

# Event -> (example payload, the fields its handler reads; required ones must make a 400).
EVENTS: dict[str, tuple[str, list[tuple[str, bool]]]] = {
    "pull_request": (
        "pull_request.opened",
        [
            ("installation.id", True),
            ("installation", True),
            ("repository.full_name", True),
            ("repository", True),
            ("repository.default_branch", False),
            ("pull_request.head.sha", True),
            ("pull_request.head", True),
            ("pull_request", True),
            ("number", True),
            ("pull_request.changed_files", False),
            ("action", False),
        ],
    ),
    "push": (
        "push.event",
        [
            ("ref", False),
            ("after", False),
            ("before", False),
            ("deleted", False),
            ("repository.full_name", True),
            ("installation.id", True),
            ("repository.default_branch", False),
        ],
    ),
    "check_suite": (
        "check_suite.requested",
        [
            ("check_suite.app.id", False),
            ("check_suite.app", False),
            ("check_suite.head_sha", True),
            ("check_suite.pull_requests", False),
            ("check_suite.head_branch", False),
            ("repository.id", True),
            ("installation.id", True),
            ("check_suite", False),
        ],
    ),
    "check_run": (
        "check_run.requested_action",
        [
            ("check_run.app.id", False),
            ("check_run.name", False),
            ("check_run.head_sha", True),
            ("check_run.pull_requests", False),
            ("check_run.check_suite.head_branch", False),
            ("requested_action.identifier", False),
            ("requested_action", False),
            ("action", False),
            ("repository.id", True),
        ],
    ),
    "installation": (
        "installation.created",
        [("installation.account.login", False), ("action", False), ("installation", False)],
    ),
}


@dataclass
class Case:
    """One delivery and the answers that are right for it."""

    name: str
    event: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    sign: bool = True
    allowed: frozenset[int] = frozenset({400})


def base_payload(event: str, app_id: int, branch: str = "refs/heads/main") -> dict[str, Any]:
    """The real example payload, made to reach the handler's work (our App, a branch push)."""
    data: dict[str, Any] = copy.deepcopy(json.loads((PAYLOADS / f"{EVENTS[event][0]}.json").read_text()))
    data.setdefault("installation", {"id": 42})
    if event == "push":
        data["ref"] = branch
    for holder in ("check_suite", "check_run"):
        if holder in data:
            data[holder]["app"] = {**(data[holder].get("app") or {}), "id": app_id}
            if holder == "check_run":
                data[holder]["name"] = "unroot"
                data["requested_action"] = {"identifier": "rerun"}
    return data


def _set(data: dict[str, Any], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    node: Any = data
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def encode(data: object) -> bytes:
    text = json.dumps(data)
    return text.replace(f'"{HUGE_FLOAT}"', "1e400").replace(f'"{HUGE_INT}"', "9" * 5000).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def cases(secret: str, app_id: int) -> Iterator[Case]:
    """Every hostile case (about 250)."""
    good = encode(base_payload("push", app_id))
    digest = signature(secret, good)
    sha1 = "sha1=" + hmac.new(secret.encode(), good, hashlib.sha1).hexdigest()
    unsigned = [
        ("no signature", {}),
        ("empty signature", {"X-Hub-Signature-256": ""}),
        ("sha1 signature", {"X-Hub-Signature-256": sha1}),
        ("sha1 in the sha256 header's name", {"X-Hub-Signature": sha1}),
        ("short digest", {"X-Hub-Signature-256": digest[:-2]}),
        ("uppercase digest", {"X-Hub-Signature-256": "sha256=" + digest[7:].upper()}),
        ("wrong digest", {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
        ("non-ASCII signature", {"X-Hub-Signature-256": "sha256=" + "é" * 64}),
        ("signature with a space inside", {"X-Hub-Signature-256": digest[:20] + " " + digest[20:]}),
        ("two signatures", {"X-Hub-Signature-256": digest + "," + digest}),
    ]
    for name, headers in unsigned:
        yield Case(name, "push", good, headers, sign=False, allowed=frozenset({401}))
    for name, headers in [
        ("no event header", {"X-GitHub-Event": ""}),
        ("no delivery header", {"X-GitHub-Delivery": ""}),
        ("delivery id of 5,000 characters", {"X-GitHub-Delivery": "d" * 5000}),
        ("delivery id with spaces", {"X-GitHub-Delivery": "a b"}),
    ]:
        yield Case(name, "push", good, headers, allowed=frozenset({400}))
    yield Case("unknown event", "fork", good, allowed=frozenset({202}))
    yield Case("ping", "ping", encode({"zen": "hi", "hook_id": 1}), allowed=frozenset({200}))
    bodies: list[tuple[str, bytes]] = [
        ("not JSON", b"{nope"),
        ("invalid UTF-8", b'{"a": "\xff"}'),
        ("empty body", b""),
        ("JSON array", b"[1, 2]"),
        ("JSON string", b'"x"'),
        ("JSON number", b"1"),
        ("JSON null", b"null"),
        ("1e400 at the top", b"1e400"),
        ("5,000-digit integer at the top", b"9" * 5000),
        ("100,000-deep array", b"[" * 100_000 + b"]" * 100_000),
        ("100,000-deep object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        ("NaN", b'{"number": NaN}'),
    ]
    for event in ("push", "pull_request"):
        for name, body in bodies:
            yield Case(
                f"{event}: {name}", event, body, allowed=frozenset({400, 202}) if name == "NaN" else frozenset({400})
            )
    for event, (_example, fields) in EVENTS.items():
        for dotted, required in fields:
            for value in BAD_VALUES:
                data = base_payload(event, app_id)
                _set(data, dotted, value)
                allowed = frozenset({400}) if required else frozenset({400, 202})
                yield Case(f"{event}: {dotted} = {str(value)[:20]!r}", event, encode(data), allowed=allowed)

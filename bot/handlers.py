"""Webhook events -> jobs: one small gidgethub handler per event the App subscribes to.

Every payload field a handler reads is read through `Fields`, which checks its type and shape:
a signed but malformed delivery is answered 400 naming the field, never 500, and a head SHA
that is not a SHA never becomes a job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub import routing, sansio

from bot.outputs import CHECK_NAME, RERUN_IDENTIFIER
from bot.queue import Job

log = logging.getLogger(__name__)
router = routing.Router()
Submit = Callable[[Job], Awaitable[bool]]
ZERO_SHA = "0" * 40
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
_FULL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_MAX_ID = 2**53  # GitHub's ids are JSON numbers; anything larger is not one of them
_MAX_TEXT = 1024


class PayloadError(ValueError):
    """A field the handler needs is missing or of the wrong type; the message names it."""


class Fields:
    """Typed reads of a payload by dotted path."""

    def __init__(self, data: object) -> None:
        if not isinstance(data, dict):
            raise PayloadError("the payload must be a JSON object")
        self.data: dict[str, Any] = data

    def _get(self, name: str, required: bool) -> object:
        node: object = self.data
        for part in name.split("."):
            if not isinstance(node, dict):
                raise PayloadError(f"payload field {name}: {part!r} is not inside an object")
            if part not in node or node[part] is None:
                if required:
                    raise PayloadError(f"payload field {name} is missing")
                return None
            node = node[part]
        return node

    def id(self, name: str) -> int:
        value = self._get(name, True)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _MAX_ID:
            raise PayloadError(f"payload field {name} must be a positive whole number")
        return value

    def optional_int(self, name: str) -> int | None:
        value = self._get(name, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_ID:
            raise PayloadError(f"payload field {name} must be a whole number")
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self._get(name, default is None)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT:
            raise PayloadError(f"payload field {name} must be a string of 1 to {_MAX_TEXT} characters")
        return value

    def sha(self, name: str) -> str:
        value = self._get(name, True)
        if not isinstance(value, str) or not _SHA.fullmatch(value):
            raise PayloadError(f"payload field {name} must be a commit SHA (40 hex digits)")
        return value

    def full_name(self, name: str) -> str:
        value = self._get(name, True)
        if not isinstance(value, str) or not _FULL_NAME.fullmatch(value):
            raise PayloadError(f"payload field {name} must be 'owner/name'")
        return value

    def objects(self, name: str) -> list[Fields]:
        value = self._get(name, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise PayloadError(f"payload field {name} must be a list of objects")
        return [Fields(item) for item in value]

    def flag(self, name: str) -> bool:
        value = self._get(name, False)
        if value is not None and not isinstance(value, bool):
            raise PayloadError(f"payload field {name} must be true or false")
        return bool(value)


def _base(event: sansio.Event) -> dict[str, Any]:
    fields = Fields(event.data)
    return {
        "installation_id": fields.id("installation.id"),
        "repo": fields.full_name("repository.full_name"),
        "default_branch": fields.text("repository.default_branch", "main"),
        "delivery_id": event.delivery_id,
    }


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def pull_request(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """A pull request's head changed: full review of its head commit."""
    fields = Fields(event.data)
    await submit(
        Job(
            kind="pull_request",
            head_sha=fields.sha("pull_request.head.sha"),
            pr_number=fields.id("number"),
            changed_files=fields.optional_int("pull_request.changed_files"),
            **_base(event),
        )
    )


@router.register("push")
async def push(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """A branch moved: a check run on the new head (tags and deletions are ignored)."""
    fields = Fields(event.data)
    ref = fields.text("ref", "")
    if not ref.startswith("refs/heads/") or fields.flag("deleted") or event.data.get("after") in (None, ZERO_SHA):
        return
    after = fields.sha("after")
    before = fields.sha("before") if event.data.get("before") is not None else ZERO_SHA
    await submit(
        Job(kind="push", head_sha=after, base_sha=None if before == ZERO_SHA else before, ref=ref, **_base(event))
    )


def _ours(fields: Fields, name: str, app_id: int) -> bool:
    return fields.optional_int(f"{name}.app.id") == app_id


def _job_for_commit(event: sansio.Event, sha: str, pulls: list[Fields], branch: str | None) -> Job:
    repo_id = Fields(event.data).id("repository.id")
    same_repo = [p for p in pulls if (p.optional_int("base.repo.id") or repo_id) == repo_id]
    if same_repo:
        return Job(kind="pull_request", head_sha=sha, pr_number=same_repo[0].id("number"), **_base(event))
    return Job(kind="push", head_sha=sha, ref=f"refs/heads/{branch}" if branch else None, **_base(event))


@router.register("check_suite", action="requested")
@router.register("check_suite", action="rerequested")
async def check_suite(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """GitHub asks for our checks on a commit (a re-run of the whole suite included)."""
    fields = Fields(event.data)
    if not _ours(fields, "check_suite", app_id):
        return
    branch = fields.text("check_suite.head_branch", "") or None
    await submit(
        _job_for_commit(event, fields.sha("check_suite.head_sha"), fields.objects("check_suite.pull_requests"), branch)
    )


@router.register("check_run", action="rerequested")
@router.register("check_run", action="requested_action")
async def check_run(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """Someone pressed Re-run (or our Re-run button) on our check run."""
    fields = Fields(event.data)
    if not _ours(fields, "check_run", app_id) or fields.text("check_run.name", "") != CHECK_NAME:
        return
    if (
        fields.text("action", "") == "requested_action"
        and fields.text("requested_action.identifier", "") != RERUN_IDENTIFIER
    ):
        return
    branch = fields.text("check_run.check_suite.head_branch", "") or None
    await submit(
        _job_for_commit(event, fields.sha("check_run.head_sha"), fields.objects("check_run.pull_requests"), branch)
    )


@router.register("installation")
@router.register("installation_repositories")
async def installation(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """Installs and uninstalls need no work; they are logged."""
    fields = Fields(event.data)
    log.info("installation %s: %s", fields.text("action", "?"), fields.text("installation.account.login", "?"))

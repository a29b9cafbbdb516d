"""Webhook events -> jobs: one small gidgethub handler per event the App subscribes to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub import routing, sansio

from bot.queue import Job

log = logging.getLogger(__name__)
router = routing.Router()
Submit = Callable[[Job], Awaitable[bool]]
ZERO_SHA = "0" * 40


def _base(event: sansio.Event) -> dict[str, Any]:
    data = event.data
    return {
        "installation_id": int(data["installation"]["id"]),
        "repo": str(data["repository"]["full_name"]),
        "default_branch": str(data["repository"].get("default_branch") or "main"),
        "delivery_id": event.delivery_id,
    }


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def pull_request(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """A pull request's head changed: full review of its head commit."""
    pull = event.data["pull_request"]
    changed = pull.get("changed_files")
    await submit(
        Job(
            kind="pull_request",
            head_sha=str(pull["head"]["sha"]),
            pr_number=int(event.data["number"]),
            changed_files=int(changed) if isinstance(changed, int) else None,
            **_base(event),
        )
    )


@router.register("push")
async def push(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """A branch moved: a check run on the new head (tags and deletions are ignored)."""
    data = event.data
    ref = str(data.get("ref", ""))
    if not ref.startswith("refs/heads/") or data.get("deleted") or data.get("after") in (None, ZERO_SHA):
        return
    before = str(data.get("before") or ZERO_SHA)
    await submit(Job(kind="push", head_sha=str(data["after"]), base_sha=None if before == ZERO_SHA else before, ref=ref, **_base(event)))


def _ours(app: dict[str, Any] | None, app_id: int) -> bool:
    return app is not None and int(app.get("id", -1)) == app_id


def _job_for_commit(event: sansio.Event, sha: str, pulls: list[dict[str, Any]], branch: str | None) -> Job:
    repo_id = event.data["repository"]["id"]
    same_repo = [p for p in pulls if (p.get("base") or {}).get("repo", {}).get("id", repo_id) == repo_id]
    if same_repo:
        return Job(kind="pull_request", head_sha=sha, pr_number=int(same_repo[0]["number"]), **_base(event))
    return Job(kind="push", head_sha=sha, ref=f"refs/heads/{branch}" if branch else None, **_base(event))


@router.register("check_suite", action="requested")
@router.register("check_suite", action="rerequested")
async def check_suite(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """GitHub asks for our checks on a commit (a re-run of the whole suite included)."""
    suite = event.data["check_suite"]
    if not _ours(suite.get("app"), app_id):
        return
    await submit(_job_for_commit(event, str(suite["head_sha"]), list(suite.get("pull_requests") or []), suite.get("head_branch")))


@router.register("check_run", action="rerequested")
@router.register("check_run", action="requested_action")
async def check_run(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """Someone pressed Re-run (or our Re-run button) on our check run."""
    run = event.data["check_run"]
    if not _ours(run.get("app"), app_id) or run.get("name") != "unroot":
        return
    if event.data.get("action") == "requested_action" and (event.data.get("requested_action") or {}).get("identifier") != "rerun":
        return
    branch = (run.get("check_suite") or {}).get("head_branch")
    await submit(_job_for_commit(event, str(run["head_sha"]), list(run.get("pull_requests") or []), branch))


@router.register("installation")
@router.register("installation_repositories")
async def installation(event: sansio.Event, submit: Submit, app_id: int) -> None:
    """Installs and uninstalls need no work; they are logged."""
    account = (event.data.get("installation") or {}).get("account") or {}
    log.info("installation %s: %s", event.data.get("action"), account.get("login"))

"""One job: fetch what changed, analyse it, publish one review and one completed check run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.config import CONFIG_PATH, ConfigError, RepoConfig, parse_config
from bot.github import GitHubError, InstallationClient
from bot.plan import FileChange, Plan, fingerprints_in, plan_review
from bot.queue import Job
from rules.analyze import analyze_bytes, file_kind
from rules.model import Finding

log = logging.getLogger(__name__)
FETCH_CONCURRENCY = 16
RERUN_ACTION = {"label": "Re-run unroot", "description": "Analyse this commit again", "identifier": "rerun"}

THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { body databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
RESOLVE_MUTATION = """
mutation($threadId: ID!) { resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } } }
"""


@dataclass(frozen=True)
class Outcome:
    """What a job did, for logs, metrics and tests."""

    conclusion: str
    findings: int
    review_posted: bool
    threads_resolved: int


async def _check_run(client: InstallationClient, job: Job) -> int:
    """Our check run for this commit: an existing one is reused (a re-run, or a push and a PR
    event for the same commit), otherwise a new one is created in progress."""
    title, summary = "Checking for root containers", "unroot is reading the changed files."
    for run in await client.check_runs_for(job.repo, job.head_sha):
        if run.get("name") == "unroot" and (run.get("app") or {}).get("id") in (None, client.app_id):
            await client.restart_check_run(job.repo, int(run["id"]), title, summary)
            return int(run["id"])
    return await client.create_check_run(job.repo, job.head_sha, title, summary)


async def _config(client: InstallationClient, job: Job) -> tuple[RepoConfig, str | None]:
    """The repository config from the default branch only: a PR cannot switch its own check off."""
    raw = await client.file_bytes(job.repo, CONFIG_PATH, job.default_branch)
    if raw is None:
        return RepoConfig(), None
    try:
        return parse_config(raw.decode("utf-8", errors="replace")), None
    except ConfigError as error:
        return RepoConfig(), f"{CONFIG_PATH} on {job.default_branch} was ignored: {error}"


async def _changes(client: InstallationClient, job: Job) -> list[FileChange]:
    if job.pr_number is not None:
        return await client.pull_files(job.repo, job.pr_number)
    base = job.base_sha if job.base_sha and set(job.base_sha) != {"0"} else job.default_branch
    if base == job.head_sha:
        return []
    return await client.compare_files(job.repo, base, job.head_sha)


async def _existing_fingerprints(client: InstallationClient, job: Job) -> frozenset[str]:
    if job.pr_number is None:
        return frozenset()
    # Inline comments and review bodies both carry markers (findings outside the diff live in bodies).
    comments, reviews = await asyncio.gather(
        client.review_comments(job.repo, job.pr_number), client.reviews(job.repo, job.pr_number)
    )
    found: set[str] = set()
    for comment in [*comments, *reviews]:
        user = comment.get("user") or {}
        if user.get("type") == "Bot":
            found |= fingerprints_in(str(comment.get("body", "")))
    return frozenset(found)


async def _analyse(
    client: InstallationClient, job: Job, changes: list[FileChange], config: RepoConfig
) -> tuple[list[Finding], dict[str, str]]:
    relevant = [
        change for change in changes
        if change.status != "removed" and file_kind(change.path) is not None and not config.ignored(change.path)
    ]
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(change: FileChange) -> tuple[list[Finding], str | None]:
        async with gate:
            data = await client.file_bytes(job.repo, change.path, job.head_sha)
        if data is None:
            return [], None  # a symlink or submodule: never followed
        findings = analyze_bytes(change.path, data, config.options)
        skipped = any(f.rule == "UR001" for f in findings)
        return findings, None if skipped else data.decode("utf-8", errors="replace").lstrip("\ufeff")

    results = await asyncio.gather(*(one(change) for change in relevant))
    findings = [f for found, _ in results for f in found]
    texts = {change.path: text for change, (_, text) in zip(relevant, results) if text is not None}
    return findings, texts


async def _resolve_gone_threads(client: InstallationClient, job: Job, current: frozenset[str]) -> int:
    """Resolve the bot's review threads whose finding no longer exists."""
    owner, name = job.repo.split("/", 1)
    resolved = 0
    after: str | None = None
    for _page in range(20):
        data: dict[str, Any] = await client.graphql(THREADS_QUERY, owner=owner, name=name, number=job.pr_number, after=after)
        threads = data["repository"]["pullRequest"]["reviewThreads"]
        for thread in threads["nodes"]:
            if thread["isResolved"] or not thread["comments"]["nodes"]:
                continue
            marks = fingerprints_in(str(thread["comments"]["nodes"][0].get("body", "")))
            if marks and not marks & current:
                await client.graphql(RESOLVE_MUTATION, threadId=thread["id"])
                resolved += 1
        if not threads["pageInfo"]["hasNextPage"]:
            break
        after = threads["pageInfo"]["endCursor"]
    return resolved


async def _post_review(client: InstallationClient, job: Job, plan: Plan) -> bool:
    assert job.pr_number is not None
    if not plan.comments and not plan.review_body:
        return False
    try:
        await client.create_review(job.repo, job.pr_number, job.head_sha, plan.review_body, plan.review_event, plan.comments)
    except GitHubError as error:
        if error.status != 422 or not plan.comments:
            raise
        # GitHub refused an anchor after all: never lose the review, put every comment in the body.
        log.warning("review refused (422), retrying without inline comments", extra={"repo": job.repo, "sha": job.head_sha})
        moved = "\n\n---\n\n".join(comment.body for comment in plan.comments)
        body = (plan.review_body + "\n\n" + moved).strip()[:65_000]
        await client.create_review(job.repo, job.pr_number, job.head_sha, body, plan.review_event, ())
    return True


async def run(
    job: Job, client: InstallationClient, is_current: Callable[[], bool], docs_url: str, max_comments: int = 30
) -> Outcome:
    """Run one job to the end; the check run is completed whatever happens."""
    check_task = asyncio.create_task(_check_run(client, job))
    check_run_id: int | None = None
    try:
        (config, config_problem), changes, existing = await asyncio.gather(
            _config(client, job), _changes(client, job), _existing_fingerprints(client, job)
        )
        check_run_id = await check_task
        findings, texts = await _analyse(client, job, changes, config)
        plan = plan_review(
            findings, changes, texts, existing,
            max_comments=max_comments, request_changes=config.request_changes, docs_url=docs_url,
            files_checked=sum(1 for c in changes if file_kind(c.path) is not None),
        )
        posted = resolved = 0
        if job.pr_number is not None and is_current():
            posted = int(await _post_review(client, job, plan))
            stale = {fp for fp in existing if fp not in plan.fingerprints}
            if stale:
                resolved = await _resolve_gone_threads(client, job, plan.fingerprints)
        summary = plan.summary if config_problem is None else f"> **Note:** {config_problem}\n\n{plan.summary}"
        # A superseded job still completes its run: the analysis is true for that commit.
        await client.complete_check_run(job.repo, check_run_id, plan.conclusion, plan.title, summary[:65_000], plan.annotations)
        return Outcome(plan.conclusion, len(findings), bool(posted), resolved)
    except Exception as error:  # noqa: BLE001 - any failure must still complete the check run
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        log.exception("job failed", extra={"repo": job.repo, "sha": job.head_sha, "delivery": job.delivery_id})
        if check_run_id is None:
            try:
                check_run_id = await check_task
            except Exception:  # noqa: BLE001
                check_task.cancel()
                raise error from None
        await client.complete_check_run(
            job.repo, check_run_id, "failure", f"unroot could not finish: {reason}"[:255],
            f"unroot could not finish analysing {job.head_sha[:12]}: {reason}\n\nUse **Re-run unroot** to try again.",
            actions=[RERUN_ACTION],
        )
        return Outcome("failure", 0, False, 0)

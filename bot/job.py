"""One job: fetch what changed, analyse it, publish one review and one completed check run."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.config import CONFIG_PATH, ConfigError, RepoConfig, parse_config
from bot.github import ANNOTATIONS_PER_REQUEST, GitHubError, InstallationClient
from bot.plan import FileChange, Plan, fingerprints_in, group_annotations, inert, plan_review
from bot.queue import IsCurrent, Job, RetryLater
from rules.analyze import analyze_bytes, file_kind, skipped
from rules.model import Finding, Options

log = logging.getLogger(__name__)
RERUN_ACTION = {"label": "Re-run unroot", "description": "Analyse this commit again", "identifier": "rerun"}

# One round trip for everything known before the file list: the config on the default
# branch, and (for a pull request) the bot's earlier threads and review bodies.
META_QUERY = """
query($owner: String!, $name: String!, $config: String!, $number: Int!, $pull: Boolean!, $after: String) {
  repository(owner: $owner, name: $name) {
    config: object(expression: $config) { ... on Blob { text isTruncated } }
    pullRequest(number: $number) @include(if: $pull) {
      headRefOid
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { body viewerDidAuthor } } }
        pageInfo { hasNextPage endCursor }
      }
      reviews(last: 100) { nodes { body viewerDidAuthor } }
    }
  }
}
"""
BLOBS_PER_QUERY = 50


@dataclass(frozen=True)
class Thread:
    """One of the bot's review threads: its GraphQL id and the findings it is about."""

    id: str
    fingerprints: frozenset[str]
    resolved: bool


@dataclass(frozen=True)
class Meta:
    """What the meta query tells."""

    config: RepoConfig
    config_problem: str | None
    commented: frozenset[str]
    threads: tuple[Thread, ...]
    head: str | None = None  # the pull request's head commit as GitHub has it now


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
        if client.ours(run):
            await client.restart_check_run(job.repo, int(run["id"]), title, summary)
            return int(run["id"])
    return await client.create_check_run(job.repo, job.head_sha, title, summary)


async def _meta(client: InstallationClient, job: Job) -> Meta:
    """Config from the default branch only (a PR cannot switch its own check off), and the bot's
    earlier findings on this pull request."""
    owner, name = job.repo.split("/", 1)
    variables: dict[str, Any] = {
        "owner": owner, "name": name, "config": f"{job.default_branch}:{CONFIG_PATH}",
        "number": job.pr_number or 0, "pull": job.pr_number is not None, "after": None,
    }
    data = await client.graphql(META_QUERY, **variables)
    repository = data.get("repository") or {}
    config, problem = RepoConfig(), None
    blob = repository.get("config") or {}
    if blob.get("text") is not None:
        try:
            config = await asyncio.to_thread(parse_config, str(blob["text"]))
        except ConfigError as error:
            problem = f"{CONFIG_PATH} on {job.default_branch} was ignored: {error}"
    threads: list[Thread] = []
    commented: set[str] = set()
    pull = repository.get("pullRequest") or {}
    # Only what the App itself wrote counts: anyone who can comment could otherwise post our
    # markers and silence the bot's inline comments.
    for review in (pull.get("reviews") or {}).get("nodes") or []:
        if review.get("viewerDidAuthor") is True:
            commented |= fingerprints_in(str(review.get("body") or ""))
    page = pull.get("reviewThreads")
    for _ in range(50):
        if not page:
            break
        for node in page.get("nodes") or []:
            comments = (node.get("comments") or {}).get("nodes") or []
            ours = bool(comments) and comments[0].get("viewerDidAuthor") is True
            marks = frozenset(fingerprints_in(str(comments[0].get("body") or ""))) if ours else frozenset()
            if marks:
                threads.append(Thread(str(node["id"]), marks, bool(node.get("isResolved"))))
                commented |= marks
        if not (page.get("pageInfo") or {}).get("hasNextPage"):
            break
        variables["after"] = page["pageInfo"]["endCursor"]
        more = await client.graphql(META_QUERY, **variables)
        page = ((more.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads")
    head = pull.get("headRefOid")
    return Meta(config, problem, frozenset(commented), tuple(threads), head if isinstance(head, str) else None)


async def _changes(client: InstallationClient, job: Job) -> list[FileChange]:
    if job.pr_number is not None:
        return await client.pull_files(job.repo, job.pr_number, job.changed_files)
    base = job.base_sha if job.base_sha and set(job.base_sha) != {"0"} else job.default_branch
    if base == job.head_sha:
        return []
    return await client.compare_files(job.repo, base, job.head_sha)


async def _blobs(client: InstallationClient, job: Job, paths: list[str]) -> dict[str, dict[str, Any] | None]:
    """Blob facts and text of many files at the head commit, 50 per GraphQL query, queries in parallel."""
    owner, name = job.repo.split("/", 1)

    async def batch(chunk: list[str]) -> dict[str, dict[str, Any] | None]:
        fields = "\n".join(
            f"f{i}: object(expression: $e{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}" for i in range(len(chunk))
        )
        params = "".join(f", $e{i}: String!" for i in range(len(chunk)))
        query = f"query($owner: String!, $name: String!{params}) {{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
        variables = {f"e{i}": f"{job.head_sha}:{path}" for i, path in enumerate(chunk)}
        data = await client.graphql(query, owner=owner, name=name, **variables)
        repository = data.get("repository") or {}
        return {path: repository.get(f"f{i}") for i, path in enumerate(chunk)}

    chunks = [paths[i : i + BLOBS_PER_QUERY] for i in range(0, len(paths), BLOBS_PER_QUERY)]
    found: dict[str, dict[str, Any] | None] = {}
    for part in await asyncio.gather(*(batch(chunk) for chunk in chunks)):
        found.update(part)
    return found


Analyse = Callable[[str, bytes, Options], Awaitable[list[Finding]]]


async def analyse_here(path: str, data: bytes, options: Options) -> list[Finding]:
    """Analysis on the event loop: for tests and benchmarks only (the App uses bot.analysis)."""
    return analyze_bytes(path, data, options)


async def _analyse(
    client: InstallationClient, job: Job, changes: list[FileChange], config: RepoConfig, analyse: Analyse
) -> tuple[list[Finding], dict[str, str]]:
    relevant = [
        change.path for change in changes
        if change.status != "removed" and file_kind(change.path) is not None and not config.ignored(change.path)
    ]
    blobs = await _blobs(client, job, relevant) if relevant else {}
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    readable: list[tuple[str, bytes]] = []
    limit = config.options.max_bytes
    for path in relevant:
        blob = blobs.get(path)
        if blob is None:
            # Listed as changed but no file at the head commit: a submodule, or gone after all.
            # Never silent: a check that says nothing about a file it was shown must say why.
            findings.append(skipped(path, f"no file at {job.head_sha[:12]} (a submodule, or not a regular file)"))
            continue
        if int(blob.get("byteSize") or 0) > limit:
            findings.append(skipped(path, f"{int(blob['byteSize']):,} bytes is over the {limit:,}-byte limit"))
            continue
        if blob.get("isBinary") or (blob.get("text") is None and not blob.get("isTruncated")):
            findings.append(skipped(path, "binary file"))
            continue
        if blob.get("isTruncated"):
            data = await client.file_bytes(job.repo, path, job.head_sha)  # rare: the blob API has it whole
            if data is None:
                findings.append(skipped(path, f"over GraphQL's text limit and not readable as a regular file at {job.head_sha[:12]}"))
                continue
        else:
            data = str(blob["text"]).encode("utf-8")
        readable.append((path, data))
    # Side by side: the analysis pool has several workers, and each file is a round trip to one.
    results = await asyncio.gather(*(analyse(path, data, config.options) for path, data in readable))
    for (path, data), found in zip(readable, results):
        findings.extend(found)
        if not any(f.rule == "UR001" for f in found):
            texts[path] = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    return findings, texts


async def _resolve_gone_threads(client: InstallationClient, threads: tuple[Thread, ...], current: frozenset[str]) -> int:
    """Resolve, in one mutation, the bot's open threads whose findings are all gone."""
    stale = [t.id for t in threads if not t.resolved and not t.fingerprints & current]
    if not stale:
        return 0
    fields = " ".join(f"r{i}: resolveReviewThread(input: {{threadId: $t{i}}}) {{ thread {{ id }} }}" for i in range(len(stale)))
    params = ", ".join(f"$t{i}: ID!" for i in range(len(stale)))
    await client.graphql(f"mutation({params}) {{ {fields} }}", **{f"t{i}": thread for i, thread in enumerate(stale)})
    return len(stale)


async def _publish_review(
    client: InstallationClient, job: Job, plan: Plan, meta: Meta, is_current: IsCurrent
) -> tuple[bool, int]:
    """Post the review and resolve gone threads (pull requests whose job is still current, as
    GitHub says: our own queue's order can be wrong when deliveries arrive out of order)."""
    if job.pr_number is None or (meta.head is not None and meta.head != job.head_sha) or not await is_current():
        return False, 0
    posted = await _post_review(client, job, plan)
    resolved = await _resolve_gone_threads(client, meta.threads, plan.fingerprints)
    return posted, resolved


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
    job: Job,
    client: InstallationClient,
    is_current: IsCurrent,
    docs_url: str,
    max_comments: int = 30,
    *,
    requeued_on_cancel: bool = False,
    analyse: Analyse = analyse_here,
    resubmit: Callable[[Job], Awaitable[bool]] | None = None,
) -> Outcome:
    """Run one job to the end; the check run is completed whatever happens.

    Cancelled (the server is stopping), the run is completed as interrupted, unless
    `requeued_on_cancel` says the queue keeps the job for another worker: then the run is
    left in progress for that worker to finish, and no required check flips to cancelled."""
    check_task = asyncio.create_task(_check_run(client, job))
    check_run_id: int | None = None
    try:
        meta, changes = await asyncio.gather(_meta(client, job), _changes(client, job))
        if resubmit is not None:
            await _follow_head(client, job, meta, resubmit)
        findings, texts = await _analyse(client, job, changes, meta.config, analyse)
        plan = await asyncio.to_thread(
            plan_review, findings, changes, texts, meta.commented,
            max_comments=max_comments, request_changes=meta.config.request_changes, docs_url=docs_url,
            files_checked=sum(1 for c in changes if file_kind(c.path) is not None),
        )
        check_run_id = await check_task
        annotations = group_annotations(plan.annotations)
        # The review and the first annotation batches are independent writes: send them side by side.
        review_task = asyncio.create_task(_publish_review(client, job, plan, meta, is_current))
        head, rest = annotations[:ANNOTATIONS_PER_REQUEST], annotations[ANNOTATIONS_PER_REQUEST:]
        # Extra batches go at most two at a time (GitHub appends them in any order): few
        # concurrent writes, as GitHub asks, but a 300-file PR is not 6 writes deep.
        batches = [rest[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(rest), ANNOTATIONS_PER_REQUEST)]
        for pair in range(0, len(batches), 2):
            await asyncio.gather(*(client.add_annotations(job.repo, check_run_id, plan.title, b) for b in batches[pair : pair + 2]))
        posted, resolved = await review_task
        summary = plan.summary if meta.config_problem is None else f"> **Note:** {inert(meta.config_problem)}\n\n{plan.summary}"
        # A superseded job still completes its run: the analysis is true for that commit.
        await client.complete_check_run(job.repo, check_run_id, plan.conclusion, plan.title, summary[:65_000], head)
        return Outcome(plan.conclusion, len(findings), posted, resolved)
    except asyncio.CancelledError:
        if requeued_on_cancel:
            check_task.cancel()
            raise
        # The server is stopping and the grace period is over: say so on the run, then stop.
        if check_run_id is None and check_task.done() and not check_task.cancelled() and check_task.exception() is None:
            check_run_id = check_task.result()
        check_task.cancel()
        await asyncio.wait_for(interrupted(client, job, check_run_id), timeout=10)
        raise
    except Exception as error:  # noqa: BLE001 - any failure must still complete the check run
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        if check_run_id is None:
            try:
                check_run_id = await check_task
            except Exception as no_run:  # noqa: BLE001
                check_task.cancel()
                raise _later(no_run) from None  # no check run could be had: try again later
        log.exception("job failed", extra={"repo": job.repo, "sha": job.head_sha, "delivery": job.delivery_id})
        passing = _transient(error)
        try:
            await _fail(client, job, check_run_id, reason, retrying=passing)
        except Exception as stuck:  # noqa: BLE001 - the run would stay in progress: try again later
            raise _later(stuck) from None
        if passing:  # GitHub failed us for now: the run says so, and the job runs again later
            raise RetryLater(reason)
        return Outcome("failure", 0, False, 0)


def _transient(error: BaseException) -> bool:
    """A failure of GitHub's that may pass (not a bug of ours, not a refusal that will stay)."""
    if isinstance(error, GitHubError):
        return error.transient
    return isinstance(error, (OSError, asyncio.TimeoutError))


async def _follow_head(client: InstallationClient, job: Job, meta: Meta, resubmit: Callable[[Job], Awaitable[bool]]) -> None:
    """When GitHub's head of the pull request is another commit than this job's, make sure that
    commit gets its own job: a delivery that arrived late (a redelivery, a slow server) may have
    taken its place in our queue. This job still completes its own run, without a review."""
    if job.pr_number is None or meta.head is None or meta.head == job.head_sha:
        return
    if any(client.ours(run) for run in await client.check_runs_for(job.repo, meta.head)):
        return  # that head has its run (done, or in progress somewhere)
    newest = dataclasses.replace(job, head_sha=meta.head, delivery_id=f"{job.delivery_id}:head", changed_files=None, received=time.time())
    try:
        queued = await resubmit(newest)
    except Exception as error:  # noqa: BLE001 - the queue is closing or down: the next delivery catches up
        log.warning("could not queue the pull request's head %s: %r", meta.head, error, extra={"repo": job.repo})
        return
    log.info("queued the pull request's head as GitHub has it", extra={"repo": job.repo, "sha": meta.head, "queued": queued})


def _later(error: BaseException) -> BaseException:
    """What to raise when the job's run cannot be completed now: RetryLater, unless GitHub's
    answer will not change (the installation is gone, a permission is missing)."""
    if isinstance(error, GitHubError) and not error.transient:
        return error
    return RetryLater(str(error).splitlines()[0][:300] if str(error) else type(error).__name__)


async def give_up(client: InstallationClient, job: Job, reason: str) -> None:
    """Complete the commit's check run as failed with a Re-run button: the job cannot be finished
    (it kept dying mid-way, or ran out of time)."""
    await _fail(client, job, await _check_run(client, job), reason)


async def _fail(client: InstallationClient, job: Job, check_run_id: int, reason: str, *, retrying: bool = False) -> None:
    """Complete the run as "unroot could not finish: <reason>", with the Re-run button."""
    after = (
        "unroot will try again by itself in a while; **Re-run unroot** tries now."
        if retrying else "Use **Re-run unroot** to try again."
    )
    await client.complete_check_run(
        job.repo, check_run_id, "failure", f"unroot could not finish: {reason}"[:255],
        f"unroot could not finish analysing {job.head_sha[:12]}: {inert(reason)}\n\n{after}",
        actions=[RERUN_ACTION],
    )


INTERRUPTED_TITLE = "unroot was interrupted: the server restarted"


async def interrupted(client: InstallationClient, job: Job, check_run_id: int | None = None) -> None:
    """Complete the commit's check run as cancelled with a Re-run button (a job cut short or never
    started because the server stopped): a required check must never wait forever."""
    if check_run_id is None:
        check_run_id = await _check_run(client, job)
    await client.complete_check_run(
        job.repo, check_run_id, "cancelled", INTERRUPTED_TITLE,
        f"unroot stopped before it finished {job.head_sha[:12]}. Use **Re-run unroot** to check it again.",
        actions=[RERUN_ACTION],
    )

"""One job: fetch what changed, analyse it, publish one review and one completed check run."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import render
from bot.chart_review import RendererFactory, changed_charts, charts_of_truncated_listing, review_charts
from bot.config import CONFIG_PATH, ConfigError, RepoConfig, parse_config
from bot.diff import FileChange
from bot.fingerprint import fingerprints_in
from bot.github import Blob, CheckRunRef, GitHubError, InstallationClient, Tree
from bot.outputs import CheckOutput, Conclusion, Plan
from bot.plan import group_annotations, plan_review
from bot.queue import IsCurrent, Job, RetryLater
from bot.reading import CommitReader
from rules.analyze import analyze_bytes, file_kind, skipped
from rules.helm.discover import chart_of, chart_roots
from rules.helm.render import Renderer
from rules.kubernetes.family import declares_openshift
from rules.kustomize import patch_files
from rules.model import Finding, Options
from rules.repository import (
    MAX_BASE_DEPTH,
    RepoKnowledge,
    build_index,
    dockerfiles_needed,
    knowledge,
    mapping_paths,
    references,
)
from rules.ur001_file_skipped import BINARY, too_large

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thread:
    """One of the bot's review threads: its GraphQL id and the findings it is about."""

    id: str
    fingerprints: frozenset[str]
    resolved: bool


@dataclass(frozen=True)
class Meta:
    """What the meta query tells, read: the repository's config and the bot's earlier findings."""

    config: RepoConfig
    config_problem: str | None
    commented: frozenset[str]
    threads: tuple[Thread, ...]
    head: str | None = None  # the pull request's head commit as GitHub has it now


@dataclass(frozen=True)
class Outcome:
    """What a job did, for logs, metrics and tests."""

    conclusion: Conclusion
    findings: int
    review_posted: bool
    plan: Plan | None = None  # what was published, when the job got that far


async def _check_run(client: InstallationClient, job: Job) -> CheckRunRef:
    """Our check run for this commit: an existing one is reused (a re-run, or a push and a PR
    event for the same commit), otherwise a new one is created in progress."""
    for run in await client.our_check_run_refs(job.repo, job.head_sha):
        await client.restart_check_run(job.repo, run.id, render.IN_PROGRESS)
        return run
    return await client.create_check_run(job.repo, job.head_sha, render.IN_PROGRESS)


async def _meta(client: InstallationClient, job: Job) -> Meta:
    """Config from the default branch only (a PR cannot switch its own check off), and the bot's
    earlier findings on this pull request."""
    found = await client.repo_meta(job.repo, f"{job.default_branch}:{CONFIG_PATH}", job.pr_number)
    config, problem = RepoConfig(), None
    if found.config_text is not None:
        try:
            config = await asyncio.to_thread(parse_config, found.config_text)
        except ConfigError as error:
            problem = f"{CONFIG_PATH} on {job.default_branch} was ignored: {error}"
    commented: set[str] = set()
    for body in found.review_bodies:
        commented |= fingerprints_in(body)
    threads: list[Thread] = []
    for thread in found.threads:
        marks = frozenset(fingerprints_in(thread.body))
        if marks:
            threads.append(Thread(thread.id, marks, thread.resolved))
            commented |= marks
    return Meta(config, problem, frozenset(commented), tuple(threads), found.head)


async def _changes(client: InstallationClient, job: Job) -> list[FileChange]:
    if job.pr_number is not None:
        return await client.pull_files(job.repo, job.pr_number, job.changed_files)
    base = job.base_sha if job.base_sha and set(job.base_sha) != {"0"} else job.default_branch
    if base == job.head_sha:
        return []
    return await client.compare_files(job.repo, base, job.head_sha)


Analyse = Callable[[str, bytes, Options], Awaitable[list[Finding]]]


async def analyse_here(path: str, data: bytes, options: Options) -> list[Finding]:
    """Analysis on the event loop: for the local review, tests and benchmarks (the App uses bot.analysis)."""
    return analyze_bytes(path, data, options)


async def _tree(client: InstallationClient, job: Job) -> Tree | None:
    """The head commit's file listing, or None: without it the analysis goes on, knowing less."""
    try:
        return await client.tree(job.repo, job.head_sha)
    except (TimeoutError, GitHubError, OSError) as error:
        log.warning("no file listing, images judged without their Dockerfiles: %s", error, extra={"repo": job.repo})
        return None


def _texts(blobs: dict[str, Blob | None]) -> dict[str, str]:
    return {path: b.text for path, b in blobs.items() if b is not None and b.text is not None and not b.is_truncated}


async def _knowledge(
    client: CommitReader, job: Job, tree: Tree, mapping_texts: dict[str, str], readable: list[tuple[str, bytes]]
) -> RepoKnowledge | None:
    """What the repository at the head commit knows of the images the changed files name: its
    mapping files (read with the changed files) and the Dockerfiles those images map to; and
    which files its kustomizations use as patches (the kustomizations are mapping files)."""
    texts = dict(mapping_texts)
    wanted: set[str] = set()
    for path, data in readable:
        text = data.decode("utf-8", errors="replace")
        texts.setdefault(path, text)  # a changed Dockerfile is read once, at the head commit
        wanted |= references(path, text)
    patches = patch_files(texts)  # a changed kustomization counts as it is at the head commit
    if not wanted:
        return RepoKnowledge(patches=patches) if patches else None
    index = build_index(tree.paths, texts, complete=not tree.truncated)
    try:
        for _level in range(MAX_BASE_DEPTH + 1):  # one round trip a level of FROM into the repo's own images
            needed = [p for p in dockerfiles_needed(index, wanted, texts) if p not in texts]
            if not needed:
                break
            found = _texts(await client.blobs(job.repo, job.head_sha, needed))
            texts.update({path: found.get(path, "") for path in needed})  # unreadable: not asked twice
    except GitHubError as error:
        log.warning("Dockerfiles not read, images judged without them: %s", error, extra={"repo": job.repo})
        return RepoKnowledge(patches=patches) if patches else None
    return dataclasses.replace(knowledge(index, wanted, texts), patches=patches)


def _with_openshift(options: Options, readable: list[tuple[str, bytes]]) -> Options:
    """OpenShift mode when a changed manifest is a DeploymentConfig or Route: the repository deploys
    to OpenShift (the App reads no other files for this; `fix: {openshift: true}` says it for all)."""
    if options.openshift:
        return options
    if any(declares_openshift(data.decode("utf-8", errors="replace")) for _path, data in readable):
        return dataclasses.replace(options, openshift=True)
    return options


async def analyse_changes(
    client: CommitReader,
    job: Job,
    changes: list[FileChange],
    config: RepoConfig,
    analyse: Analyse,
    tree_task: asyncio.Task[Tree | None] | None = None,
    make_renderer: RendererFactory | None = None,
) -> tuple[list[Finding], dict[str, str]]:
    """The findings of the changed files at the job's head commit (charts through Helm, images
    through the repository's own Dockerfiles), and the head text of each file they are on."""
    considered = [change for change in changes if not config.ignored(change.path)]
    relevant = [c.path for c in considered if c.status != "removed" and file_kind(c.path) is not None]
    tree = await tree_task if tree_task is not None and considered else None
    charts: list[str] = []
    unlisted: list[Finding] = []  # changed charts whose files could not all be listed
    chart_tree = tree
    if tree is not None and not tree.truncated:
        # A chart's files are judged through what Helm renders of the whole chart, not one by one.
        charts = changed_charts(tree, considered)
        every_chart = chart_roots(tree.paths)
        relevant = [path for path in relevant if chart_of(path, every_chart) is None]
    elif tree is not None:
        # A listing cut short may miss a chart's Chart.yaml or files: each changed chart is listed on its own.
        chart_tree, charts, unlisted = await charts_of_truncated_listing(client, job, considered)
        relevant = [path for path in relevant if chart_of(path, charts) is None]
        charts = [root for root in charts if not any(chart_of(n.path, [root]) == root for n in unlisted)]
    # The files that say which Dockerfile builds which image come in the same query as the changed files.
    mapping = [p for p in mapping_paths(tree.paths) if p not in relevant] if tree is not None else []
    blobs = await client.blobs(job.repo, job.head_sha, relevant + mapping) if relevant else {}
    if not relevant and not charts:
        return unlisted, {}
    findings: list[Finding] = list(unlisted)
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
        if blob.byte_size > limit:
            findings.append(skipped(path, too_large(blob.byte_size, limit)))
            continue
        if blob.is_binary or (blob.text is None and not blob.is_truncated):
            findings.append(skipped(path, BINARY))
            continue
        if blob.is_truncated or blob.text is None:
            data = await client.file_bytes(job.repo, path, job.head_sha)  # rare: the blob API has it whole
            if data is None:
                findings.append(
                    skipped(
                        path, f"over GraphQL's text limit and not readable as a regular file at {job.head_sha[:12]}"
                    )
                )
                continue
        else:
            data = blob.text.encode("utf-8")
        readable.append((path, data))
    options = _with_openshift(config.options, readable)
    if tree is not None:
        known = await _knowledge(client, job, tree, _texts({p: blobs.get(p) for p in mapping}), readable)
        if known is not None and known.known:
            options = dataclasses.replace(options, knowledge=known)
    if charts and chart_tree is not None:
        chart_findings, chart_texts = await review_charts(
            client, job, chart_tree, charts, config, options, make_renderer or _default_renderer
        )
        findings.extend(chart_findings)
        texts.update(chart_texts)
    # Side by side: the analysis pool has several workers, and each file is a round trip to one.
    results = await asyncio.gather(*(analyse(path, data, options) for path, data in readable))
    for (path, data), found in zip(readable, results):
        findings.extend(found)
        if not any(f.rule == "UR001" for f in found):
            texts[path] = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    return findings, texts


def _default_renderer() -> Renderer:
    from bot.helm import renderer  # Helm's SDK is loaded in the renderer's child, and only for charts

    return renderer()


async def _publish_review(client: InstallationClient, job: Job, plan: Plan, meta: Meta, is_current: IsCurrent) -> bool:
    """Post the review and resolve gone threads (pull requests whose job is still current, as
    GitHub says: our own queue's order can be wrong when deliveries arrive out of order)."""
    if job.pr_number is None or (meta.head is not None and meta.head != job.head_sha) or not await is_current():
        return False
    posted = await _post_review(client, job, plan)
    # The bot's open threads whose findings are all gone are resolved.
    await client.resolve_threads(
        [t.id for t in meta.threads if not t.resolved and not t.fingerprints & plan.fingerprints]
    )
    return posted


async def _post_review(client: InstallationClient, job: Job, plan: Plan) -> bool:
    assert job.pr_number is not None
    if not plan.comments and not plan.review_body:
        return False
    try:
        await client.create_review(
            job.repo, job.pr_number, job.head_sha, plan.review_body, plan.review_event, plan.comments
        )
    except GitHubError as error:
        if error.status != 422 or not plan.comments:
            raise
        # GitHub refused an anchor after all: never lose the review, put every comment in the body.
        log.warning(
            "review refused (422), retrying without inline comments", extra={"repo": job.repo, "sha": job.head_sha}
        )
        await client.create_review(
            job.repo, job.pr_number, job.head_sha, render.fallback_body(plan), plan.review_event, ()
        )
    return True


async def _plan(
    findings: list[Finding],
    changes: list[FileChange],
    texts: dict[str, str],
    meta: Meta,
    max_comments: int | None,
    docs_url: str,
    check_run_url: str | None = None,
) -> Plan:
    """The plan, as the repository's `review:` settings ask (`max_comments`, when given, wins)."""
    review = meta.config.review
    return await asyncio.to_thread(
        plan_review,
        findings,
        changes,
        texts,
        meta.commented,
        max_comments=review.max_inline if max_comments is None else max_comments,
        request_changes=meta.config.request_changes,
        min_severity=review.min_severity,
        docs_url=docs_url,
        files_checked=sum(1 for c in changes if file_kind(c.path) is not None),
        check_run_url=check_run_url,
    )


async def plan_only(
    job: Job,
    client: InstallationClient,
    docs_url: str,
    max_comments: int | None = None,
    *,
    analyse: Analyse = analyse_here,
) -> Plan:
    """What `run` would publish for this job, read with the same calls and published nowhere:
    for a token that may read but not write (a workflow run for a pull request from a fork)."""
    tree_task = asyncio.create_task(_tree(client, job))
    try:
        meta, changes = await asyncio.gather(_meta(client, job), _changes(client, job))
        findings, texts = await analyse_changes(client, job, changes, meta.config, analyse, tree_task)
        return await _plan(findings, changes, texts, meta, max_comments, docs_url)
    finally:
        tree_task.cancel()


async def run(
    job: Job,
    client: InstallationClient,
    is_current: IsCurrent,
    docs_url: str,
    max_comments: int | None = None,  # None: the repository's review.max-inline
    *,
    requeued_on_cancel: bool = False,
    analyse: Analyse = analyse_here,
    resubmit: Callable[[Job], Awaitable[bool]] | None = None,
    make_renderer: RendererFactory | None = None,
) -> Outcome:
    """Run one job to the end; the check run is completed whatever happens.

    Cancelled (the server is stopping), the run is completed as interrupted, unless
    `requeued_on_cancel` says the queue keeps the job for another worker: then the run is
    left in progress for that worker to finish, and no required check flips to cancelled."""
    check_task = asyncio.create_task(_check_run(client, job))
    # Side by side with the file list: what the repository knows of its images needs the listing.
    tree_task = asyncio.create_task(_tree(client, job))
    check_run_id: int | None = None
    try:
        meta, changes = await asyncio.gather(_meta(client, job), _changes(client, job))
        if resubmit is not None:
            await _follow_head(client, job, meta, resubmit)
        findings, texts = await analyse_changes(client, job, changes, meta.config, analyse, tree_task, make_renderer)
        # The run first (created side by side with the reading): the review links its annotations.
        check_run = await check_task
        check_run_id = check_run.id
        plan = await _plan(findings, changes, texts, meta, max_comments, docs_url, check_run.html_url)
        # The review and the annotations are independent writes: send them side by side.
        review_task = asyncio.create_task(_publish_review(client, job, plan, meta, is_current))
        meanwhile = CheckOutput(plan.title, render.PUBLISHING)
        completing_batch = await client.publish_annotations(
            job.repo, check_run_id, meanwhile, group_annotations(plan.annotations)
        )
        posted = await review_task
        output = CheckOutput(plan.title, render.with_config_note(plan.summary, meta.config_problem))
        # A superseded job still completes its run: the analysis is true for that commit.
        await client.complete_check_run(job.repo, check_run_id, plan.conclusion, output, completing_batch)
        return Outcome(plan.conclusion, len(findings), posted, plan)
    except asyncio.CancelledError:
        if requeued_on_cancel:
            check_task.cancel()
            raise
        # The server is stopping and the grace period is over: say so on the run, then stop.
        if check_run_id is None and check_task.done() and not check_task.cancelled() and check_task.exception() is None:
            check_run_id = check_task.result().id
        check_task.cancel()
        await asyncio.wait_for(complete_as_interrupted(client, job, check_run_id), timeout=10)
        raise
    except Exception as error:  # any failure must still complete the check run
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        if check_run_id is None:
            try:
                check_run_id = (await check_task).id
            except Exception as no_run:
                check_task.cancel()
                raise _later(no_run) from None  # no check run could be had: try again later
        log.exception("job failed", extra={"repo": job.repo, "sha": job.head_sha, "delivery": job.delivery_id})
        passing = _transient(error)
        try:
            await _fail(client, job, check_run_id, reason, retrying=passing)
        except Exception as stuck:  # the run would stay in progress: try again later
            raise _later(stuck) from None
        if passing:  # GitHub failed us for now: the run says so, and the job runs again later
            raise RetryLater(reason)
        return Outcome("failure", 0, False)
    finally:
        tree_task.cancel()  # not needed when no analysable file changed, or the job failed first


def _transient(error: BaseException) -> bool:
    """A failure of GitHub's that may pass (not a bug of ours, not a refusal that will stay)."""
    if isinstance(error, GitHubError):
        return error.transient
    return isinstance(error, (OSError, asyncio.TimeoutError))


async def _follow_head(
    client: InstallationClient, job: Job, meta: Meta, resubmit: Callable[[Job], Awaitable[bool]]
) -> None:
    """When GitHub's head of the pull request is another commit than this job's, make sure that
    commit gets its own job: a delivery that arrived late (a redelivery, a slow server) may have
    taken its place in our queue. This job still completes its own run, without a review."""
    if job.pr_number is None or meta.head is None or meta.head == job.head_sha:
        return
    if await client.our_check_runs(job.repo, meta.head):
        return  # that head has its run (done, or in progress somewhere)
    newest = dataclasses.replace(
        job, head_sha=meta.head, delivery_id=f"{job.delivery_id}:head", changed_files=None, received=time.time()
    )
    try:
        queued = await resubmit(newest)
    except Exception as error:  # the queue is closing or down: the next delivery catches up
        log.warning("could not queue the pull request's head %s: %r", meta.head, error, extra={"repo": job.repo})
        return
    log.info(
        "queued the pull request's head as GitHub has it", extra={"repo": job.repo, "sha": meta.head, "queued": queued}
    )


def _later(error: BaseException) -> BaseException:
    """What to raise when the job's run cannot be completed now: RetryLater, unless GitHub's
    answer will not change (the installation is gone, a permission is missing)."""
    if isinstance(error, GitHubError) and not error.transient:
        return error
    return RetryLater(str(error).splitlines()[0][:300] if str(error) else type(error).__name__)


async def give_up(client: InstallationClient, job: Job, reason: str) -> None:
    """Complete the commit's check run as failed with a Re-run button: the job cannot be finished
    (it kept dying mid-way, or ran out of time)."""
    await _fail(client, job, (await _check_run(client, job)).id, reason)


async def _fail(
    client: InstallationClient, job: Job, check_run_id: int, reason: str, *, retrying: bool = False
) -> None:
    """Complete the run as "unroot could not finish: <reason>", with the Re-run button."""
    await client.complete_check_run(
        job.repo, check_run_id, "failure", render.failure_output(reason, job.head_sha, retrying=retrying)
    )


async def complete_as_interrupted(client: InstallationClient, job: Job, check_run_id: int | None = None) -> None:
    """Complete the commit's check run as cancelled with a Re-run button (a job cut short or never
    started because the server stopped): a required check must never wait forever."""
    if check_run_id is None:
        check_run_id = (await _check_run(client, job)).id
    await client.complete_check_run(job.repo, check_run_id, "cancelled", render.interrupted_output(job.head_sha))

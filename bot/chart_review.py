"""Helm charts in the App: a change to any file of a chart makes the job read that whole chart and render it."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Callable, Sequence

from bot.config import RepoConfig
from bot.diff import FileChange
from bot.github import GitHubError, Tree
from bot.queue import Job
from bot.reading import CommitReader
from rules.helm.chart import analyse_chart
from rules.helm.discover import CHART_FILE, MAX_CHART_BYTES, MAX_CHART_FILES, chart_of, chart_roots, relative
from rules.helm.render import ChartSource, Renderer
from rules.model import Finding, Options
from rules.ur001_file_skipped import skipped

log = logging.getLogger(__name__)
RendererFactory = Callable[[], Renderer]


def changed_charts(tree: Tree, changes: Sequence[FileChange]) -> list[str]:
    """The charts (folders with Chart.yaml at the head commit) that the change touches; a chart
    that did not change is not rendered."""
    roots = chart_roots(tree.paths)
    touched = {chart_of(change.path, roots) for change in changes}
    return sorted(root for root in touched if root is not None)


async def charts_of_truncated_listing(
    client: CommitReader, job: Job, changes: Sequence[FileChange]
) -> tuple[Tree, list[str], list[Finding]]:
    """When GitHub cut the head commit's listing short, the charts the change touches and a whole
    listing of each: the folders above each changed file are asked for a Chart.yaml (one batched
    query), and each chart's own folder is listed (a contents call and a tree call a chart).

    A chart at the repository's root is the truncated listing itself and is not found here; a chart
    whose own listing is cut short gets a notice (its files are not judged one by one either)."""
    folders = {posixpath.dirname(change.path) for change in changes}
    ancestors = {folder for path in folders for folder in _folder_and_parents(path)}
    candidates = sorted(f"{folder}/{CHART_FILE}" for folder in ancestors)
    found = await client.blobs(job.repo, job.head_sha, candidates) if candidates else {}
    roots = chart_roots(path for path, blob in found.items() if blob is not None)
    touched = sorted({root for change in changes if (root := chart_of(change.path, roots)) is not None})
    paths: list[str] = []
    sizes: dict[str, int] = {}
    listed: list[str] = []
    notices: list[Finding] = []
    for root in touched:
        sha = await client.directory_sha(job.repo, root, job.head_sha)
        listing = await client.tree(job.repo, sha, prefix=root) if sha is not None else None
        if listing is None or listing.truncated:
            notices.append(skipped(f"{root}/{CHART_FILE}", "GitHub's listing of the chart's files is incomplete"))
        else:
            paths += listing.paths
            sizes.update(listing.sizes)
        listed.append(root)
    return Tree(tuple(paths), False, sizes), listed, notices


def _folder_and_parents(folder: str) -> list[str]:
    """'a/b/c' -> ['a/b/c', 'a/b', 'a'] (the root, '', is left out)."""
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:end]) for end in range(len(parts), 0, -1)]


async def fetch_chart(client: CommitReader, job: Job, tree: Tree, root: str) -> ChartSource | str:
    """Every file of the chart at the head commit (one batched query, raw reads for binaries such
    as a vendored subchart's .tgz), or why it is not read."""
    paths = [path for path in tree.paths if chart_of(path, [root]) == root]
    if len(paths) > MAX_CHART_FILES:
        return f"the chart has {len(paths):,} files; the limit is {MAX_CHART_FILES:,}"
    size = sum(tree.sizes.get(path, 0) for path in paths)
    if size > MAX_CHART_BYTES:
        return f"the chart is {size:,} bytes; the limit is {MAX_CHART_BYTES:,}"
    blobs = await client.blobs(job.repo, job.head_sha, paths)
    files: dict[str, bytes] = {}
    for path in paths:
        blob = blobs.get(path)
        if blob is None:
            continue
        if blob.text is not None and not blob.is_truncated:
            files[relative(path, root)] = blob.text.encode("utf-8")
            continue
        data = await client.file_bytes(job.repo, path, job.head_sha)
        if data is not None:
            files[relative(path, root)] = data
    return ChartSource(root, files)


async def review_charts(
    client: CommitReader,
    job: Job,
    tree: Tree,
    roots: Sequence[str],
    config: RepoConfig,
    options: Options,
    make_renderer: RendererFactory,
) -> tuple[list[Finding], dict[str, str]]:
    """Findings of each changed chart, and the head text of each file they are on."""
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    sources: list[ChartSource] = []
    for root in roots:
        chart_yaml = f"{root}/{CHART_FILE}" if root else CHART_FILE
        try:
            source = await fetch_chart(client, job, tree, root)
        except GitHubError as error:
            if error.transient:
                raise  # the job runs again later, as for any file it could not read
            source = f"its files could not be read ({error})"
        if isinstance(source, str):
            findings.append(skipped(chart_yaml, source))
        else:
            sources.append(source)
    if not sources:
        return findings, texts
    # Helm runs in a child process of the renderer's, with its own limits; what runs here is the
    # pure analysis of what it rendered, off the event loop.
    renderer = make_renderer()
    try:
        for source in sources:
            found = await asyncio.to_thread(analyse_chart, source, renderer, options, config.chart_values(source.root))
            findings.extend(found)
            for finding in found:
                data = source.files.get(relative(finding.path, source.root))
                if data is not None:
                    texts[finding.path] = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    finally:
        close = getattr(renderer, "close", None)
        if callable(close):
            await asyncio.to_thread(close)
    return findings, texts

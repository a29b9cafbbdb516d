"""`unroot review`: what the App would post on a pull request, computed from a local git repository."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import CONFIG_PATH, DOCS_URL, ConfigError, RepoConfig, parse_config
from bot.diff import FileChange, FileStatus
from bot.github import Blob, Tree
from bot.job import analyse_changes, analyse_here
from bot.outputs import Plan
from bot.plan import plan_review
from bot.queue import Job
from rules.analyze import file_kind
from rules.model import Finding

GIT_SECONDS = 60  # one git call; a local repository answers in milliseconds
# git diff --name-status letters as GitHub's file statuses ("T", a type change, GitHub calls "changed").
_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "M": "modified",
    "D": "removed",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}
_REGULAR_MODES = ("100644", "100755")  # what GitHub's tree listing calls a file (no links, no submodules)
# Neither the user's nor the system's git settings may change what a diff or a listing says.
_PINNED = (
    "-c",
    "core.quotepath=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
    "-c",
    "diff.external=",
)


class ReviewError(Exception):
    """The repository or a ref cannot be reviewed (not a git repository, an unknown ref); exit 2."""


@dataclass(frozen=True)
class Git:
    """git commands run in one repository's top folder."""

    root: Path

    def bytes(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(
                ["git", *_PINNED, *args], cwd=self.root, input=stdin, capture_output=True, timeout=GIT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ReviewError(f"git {args[0]} failed: {error}") from None
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ReviewError(f"git {args[0]}: {reason[-1] if reason else f'exit {done.returncode}'}")
        return done.stdout

    def text(self, *args: str) -> str:
        return self.bytes(*args).decode("utf-8", "replace")

    def commit(self, ref: str) -> str | None:
        """The commit `ref` names, or None."""
        try:
            return self.text("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip() or None
        except ReviewError:
            return None


def open_repository(directory: Path) -> Git:
    """The git repository holding `directory`."""
    if not directory.is_dir():
        raise ReviewError(f"no such directory: {directory}")
    try:
        top = Git(directory).text("rev-parse", "--show-toplevel").strip()
    except ReviewError:
        raise ReviewError(f"not a git repository: {directory}") from None
    return Git(Path(top))


class GitReader:
    """The CommitReader of a local repository: the calls the App makes to GitHub, answered by git."""

    def __init__(self, git: Git) -> None:
        self.git = git

    async def tree(self, repo: str, sha: str, prefix: str = "") -> Tree:
        listing = self.git.bytes("ls-tree", "-r", "-z", "--long", "--full-tree", sha)
        paths: list[str] = []
        sizes: dict[str, int] = {}
        lead = f"{prefix}/" if prefix else ""
        for entry in listing.split(b"\0"):
            if not entry:
                continue
            facts, _, name = entry.decode("utf-8", "surrogateescape").partition("\t")
            mode, kind, _sha, size = facts.split()
            if kind == "blob" and mode in _REGULAR_MODES:
                paths.append(lead + name)
                sizes[lead + name] = int(size)
        return Tree(tuple(paths), False, sizes)

    async def blobs(self, repo: str, sha: str, paths: Sequence[str]) -> dict[str, Blob | None]:
        found: dict[str, Blob | None] = {}
        for path, data in zip(paths, self._cat(sha, paths)):
            found[path] = None if data is None else _as_blob(data)
        return found

    async def file_bytes(self, repo: str, path: str, ref: str) -> bytes | None:
        listed = self.git.bytes("ls-tree", "-z", ref, "--", path).split(b"\0")[0].decode("utf-8", "surrogateescape")
        if not listed or listed.split()[0] not in _REGULAR_MODES:
            return None  # no file, a link or a submodule: as GitHub's contents API, links are not followed
        return self._cat(ref, [path])[0]

    async def directory_sha(self, repo: str, path: str, ref: str) -> str | None:
        found = self.git.bytes("ls-tree", "-z", ref, "--", path).split(b"\0")[0].decode("utf-8", "surrogateescape")
        facts = found.partition("\t")[0].split()
        return facts[2] if len(facts) == 3 and facts[1] == "tree" else None

    def _cat(self, sha: str, paths: Sequence[str]) -> list[bytes | None]:
        """The blob at `sha:path` of each path (None when there is none), in one git process."""
        if not paths:
            return []
        asked = "".join(f"{sha}:{path}\n" for path in paths).encode("utf-8", "surrogateescape")
        out = self.git.bytes("cat-file", "--batch", stdin=asked)
        results: list[bytes | None] = []
        at = 0
        for _path in paths:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            at = end + 1
            if len(header) != 3:  # "<expression> missing" (or ambiguous)
                results.append(None)
                continue
            size = int(header[2])
            results.append(out[at : at + size] if header[1] == b"blob" else None)
            at += size + 1
        return results


def _as_blob(data: bytes) -> Blob:
    """The blob as GitHub's GraphQL describes it; text that is not UTF-8 is read again as bytes
    (marked truncated), so the analyser says why it cannot be read, as it does on the App."""
    if b"\0" in data:
        return Blob(None, True, False, len(data))
    try:
        return Blob(data.decode("utf-8"), False, False, len(data))
    except UnicodeDecodeError:
        return Blob(None, False, True, len(data))


def changes(git: Git, base: str, head: str) -> list[FileChange]:
    """The files changed from `base` to `head`, as GitHub lists a pull request's files: path at the
    head, status, and the hunks without their headers (None for a binary or content-less change)."""
    names = git.bytes("diff", "--name-status", "-z", "-M", "--no-ext-diff", base, head).split(b"\0")
    entries: list[tuple[str, str]] = []
    i = 0
    while i < len(names) and names[i]:
        letter = names[i].decode()[:1]
        count = 2 if letter in "RC" else 1  # a rename names the old path, then the new one
        entries.append((letter, names[i + count].decode("utf-8", "surrogateescape")))
        i += count + 1
    diff = git.text("diff", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--unified=3", base, head)
    chunks = [chunk for chunk in ("\n" + diff).split("\ndiff --git ") if chunk.strip()]
    if len(chunks) != len(entries):
        raise ReviewError(f"git listed {len(entries)} changed files but showed {len(chunks)} diffs")
    return [
        FileChange(path, _STATUS.get(letter, "modified"), _hunks(chunk))
        for (letter, path), chunk in zip(entries, chunks)
    ]


def _hunks(chunk: str) -> str | None:
    """One file's diff from its first hunk header on (GitHub's `patch`), or None when it has no hunk."""
    at = chunk.find("\n@@ ")
    return chunk[at + 1 :] if at >= 0 else None


def base_config(git: Git, base: str) -> tuple[RepoConfig, str | None]:
    """The repository's config as the base commit has it (as the App reads it from the default
    branch: a pull request cannot switch its own check off), and why it was ignored, if it was."""
    try:
        text = git.text("show", f"{base}:{CONFIG_PATH}")
    except ReviewError:
        return RepoConfig(), None
    try:
        return parse_config(text), None
    except ConfigError as error:
        return RepoConfig(), f"{CONFIG_PATH} at the base commit was ignored: {error}"


@dataclass(frozen=True)
class Refs:
    """The two commits compared, and how each was chosen (for the reader of the output)."""

    base: str
    head: str
    base_label: str
    head_label: str


def default_branch(git: Git) -> str:
    """The branch a pull request would go to: the remote's default (origin/HEAD), else main, else master."""
    for candidate in ("origin/HEAD", "main", "master"):
        if git.commit(candidate) is not None:
            return candidate
    raise ReviewError("no origin/HEAD, main or master to compare with: pass --base REF")


def choose_refs(git: Git, base: str | None, head: str | None) -> Refs:
    """The head commit (default HEAD) and the base: the merge base of the head and `base` (default
    the default branch), as GitHub compares a pull request's branch with the branch it goes to."""
    head_ref = head or "HEAD"
    head_sha = git.commit(head_ref)
    if head_sha is None:
        raise ReviewError(f"not a commit: {head_ref}")
    target = base or default_branch(git)
    target_sha = git.commit(target)
    if target_sha is None:
        raise ReviewError(f"not a commit: {target}")
    try:
        merge_base = git.text("merge-base", target_sha, head_sha).strip()
    except ReviewError:
        raise ReviewError(f"{target} and {head_ref} have no commit in common") from None
    label = target if merge_base == target_sha else f"merge base of {target} and {head_ref}"
    return Refs(merge_base, head_sha, label, head_ref)


@dataclass(frozen=True)
class Review:
    """What the App would post for the head commit, and what it was computed from."""

    refs: Refs
    plan: Plan
    config_problem: str | None
    files_changed: int
    files_checked: int


def review(git: Git, refs: Refs, max_comments: int | None = None) -> Review:
    """Run the App's analysis and planning on the change from `refs.base` to `refs.head`, with the
    base's `review:` settings (`max_comments`, from the command line, wins over review.max-inline)."""
    config, problem = base_config(git, refs.base)
    changed = changes(git, refs.base, refs.head)
    findings, texts = asyncio.run(_analyse(git, refs, changed, config))
    checked = sum(1 for c in changed if file_kind(c.path) is not None)
    plan = plan_review(
        findings,
        changed,
        texts,
        frozenset(),  # nothing was posted before: every finding is new
        max_comments=config.review.max_inline if max_comments is None else max_comments,
        request_changes=config.request_changes,
        min_severity=config.review.min_severity,
        docs_url=DOCS_URL,
        files_checked=checked,
    )
    return Review(refs, plan, problem, len(changed), checked)


async def _analyse(
    git: Git, refs: Refs, changed: list[FileChange], config: RepoConfig
) -> tuple[list[Finding], dict[str, str]]:
    reader = GitReader(git)
    job = Job("pull_request", 0, git.root.name, refs.head, "local", refs.base_label)
    tree_task = asyncio.create_task(reader.tree(job.repo, refs.head))
    try:
        return await analyse_changes(reader, job, changed, config, analyse_here, tree_task)
    finally:
        tree_task.cancel()

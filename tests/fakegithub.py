"""A local fake of GitHub's REST and GraphQL APIs, backed by real git repositories, for end-to-end tests."""

from __future__ import annotations

# =====================================================================================
# QUICK START
#   async with running_fake(tmp_path) as fake:          # 127.0.0.1:<free port>
#       pr = fake.setup_pull({"Dockerfile": "FROM alpine\n"},             # files on base (main)
#                            {"Dockerfile": "FROM alpine\nUSER root\n"})  # changes on head (feature)
#       # = add_installation(1) + add_repo("octo/app") + branch + commit + open_pull -> PR #1
#       gh = gidgethub.aiohttp.GitHubAPI(session, "unroot", base_url=fake.base_url)
#       # the app: fake.app.app_id (4242), fake.app.private_pem, installation id 1
#   URLs: fake.base_url (api.github.com style), fake.ghes_base_url (<base>/api/v3),
#         fake.graphql_url (<base>/graphql), fake.ghes_graphql_url (<base>/api/graphql).
#
# PYTEST FIXTURES (in conftest.py: `from fakegithub import app_key, fake_github`, unused-import ok)
#   app_key      -> AppKey       process-wide RSA test key pair (private_pem, public_pem), made lazily
#   fake_github  -> FakeGitHub   started in tmp_path/"github", closed after the test
#   running_fake(workdir, **FakeGitHub kwargs)  async context manager, for your own fixtures
#
# FakeGitHub(workdir, *, app_id=4242, slug="unroot", key=None (shared_app_key()), token_lifetime=3600.0,
#            latency=0.0, max_patch_chars=100_000, check_responses=True, openapi=None)
# Setup (plain methods, no HTTP):
#   add_installation(id=1, repos=(), account=None) -> Installation
#   add_repo(full_name, git=None, *, files=None, default_branch="main", installation_id=None,
#            private=False) -> FakeRepo    (makes workdir/repos/<full_name> with files or a README)
#   fork_repo(source, full_name) -> FakeRepo      (clone with all branches; not installed)
#   open_pull(repo, *, head, base=None, head_repo=None, title=, body=, draft=, author=) -> PullRequest
#       the head is fetched into the base repo as refs/pull/<n>/head: readable there by SHA
#   push_pull(repo, number, files, message=, renames=) -> new head SHA (commits on the head branch
#       in the head repo, then sync_pull);  sync_pull(repo, number) -> PullRequest
#   setup_pull(base_files, head_files, *, repo="octo/app", installation_id=1, head="feature",
#              base="main", head_repo=None (e.g. "alice/app": a fork), renames=None) -> PullRequest
#   issue_token(installation_id=1, *, lifetime=None, repos=None) -> str   (no JWT dance)
#   app_jwt(**claims) -> str   valid app JWT; pass claims (iat, exp, iss) to break it
# Lookups: repo(name), pull(repo, n), check_runs_for(repo, sha=None, name=None), reviews_for(repo, n),
#   comments_for(repo, n), threads_for(repo, n), requests_to(method, route), failures()
# State (in memory; dataclasses defined below):
#   app: FakeApp(app_id, slug, client_id, private_pem, public_pem; bot_login "unroot[bot]", bot_id)
#   installations {id: Installation(id, account, repos: set[str], suspended)}
#   repos {full_name: FakeRepo(full_name, git: GitRepo, default_branch, id, private, fork_of)}
#   pulls {(repo, n): PullRequest(repo, number, base_ref, base_sha, head_ref, head_sha, head_repo, …)}
#   tokens {value: Token(value, installation_id, expires_at, repos, permissions)}
#   check_runs {id: CheckRun(name, head_sha, status, conclusion, output, annotations (all, appended),
#               actions, bodies (every POST/PATCH body))}
#   reviews {id: Review(state PENDING|COMMENTED|CHANGES_REQUESTED|APPROVED, event, body, commit_id,
#            comment_ids)}
#   review_comments {id: ReviewComment(path, line, side, start_line, start_side, position, body,
#                    commit_id, diff_hunk, user, thread_id, minimized_reason)}
#   threads {node_id: ReviewThread(comment_ids, path, line, start_line, is_resolved)}
#   requests [LoggedRequest(method, path (no /api/v3), route, query, body, status, auth, headers,
#             started, duration)];  calls Counter["POST /repos/{owner}/{repo}/check-runs"]
#   request_count, in_flight, max_in_flight, max_writes_in_flight
#   schema_errors [str] (the fake's own answers that broke the OpenAPI description; they become 500s)
#   internal_errors [traceback] (the fake crashed; answered 500)
# Knobs (attributes): latency, token_lifetime, max_patch_chars, check_responses, require_start_side
#   (True), contents_too_large_403 (False), content_writes_per_minute (None; e.g. 80 to get
#   secondary limits on write bursts), rate_limit_total (5000/h per installation, reported in
#   x-ratelimit-* headers), enforce_rate_limit (False).
# Faults (each consumes one matching request, before auth; method= and path= filters are optional,
#   path is a regex searched in the path without the /api/v3 prefix):
#   fail_next(n=1, status=502, *, method=None, path=None, message="Server Error")
#   rate_limit_next(n=1, retry_after=1, *, method=None, path=None, status=403)  secondary limit
#   primary_rate_limit_next(n=1, reset_in=1, *, method=None, path=None)  x-ratelimit-remaining 0
#   clear_faults()
# Random faults (load tests; after the scripted ones, also before auth):
#   fault_rates = {"502": 0.05, "secondary": 0.01}  each request draws once from fault_random
#     (random.Random(0); reseed with fault_random.seed(n)): about 5% get a 502 and 1% a secondary
#     rate limit (403, retry-after: fault_retry_after (1), "secondary rate limit" message). Keys:
#     "secondary" or an HTTP status >= 400 ({"message": "Server Error"}); rates sum to <= 1.
#     Paths matching fault_exempt (a regex; default the installation token endpoint
#     ^/app/installations/{id}/access_tokens$; None exempts nothing) never draw. Counted in
#     random_faults (Counter by key). Under concurrency which request draws which number
#     depends on arrival order: the rate is reproducible, the victims only for serial requests.
# REST: GET /app, /app/installations/{id}, /repos/{o}/{r}/installation (JWT); POST
#   /app/installations/{id}/access_tokens (JWT); with an installation token: GET /repos/{o}/{r},
#   …/pulls/{n}, …/pulls/{n}/files, …/compare/{basehead}, …/contents/{path}, …/git/blobs/{sha},
#   …/check-runs/{id}, …/check-runs/{id}/annotations, …/commits/{ref}/check-runs,
#   …/pulls/{n}/reviews, …/pulls/{n}/comments; POST …/check-runs, …/pulls/{n}/reviews; PATCH
#   …/check-runs/{id}. Anything else: 404 {"message": "Not Found", "documentation_url"}.
#   POST/PATCH bodies of check runs, reviews and access tokens are validated against
#   tests/data/openapi-subset.json (from @octokit/openapi; tools/make_openapi_subset.py): 422.
# GraphQL (POST /graphql, /api/graphql): a real parser, validator and executor over a small
#   schema (GQL_SCHEMA): Query.repository(owner, name) / node(id) / viewer;
#   Repository {id databaseId name nameWithOwner owner isPrivate url pullRequest(number)
#   object(expression: "<rev>:<path>" | oid: GitObjectID)}: GitObject interface {id oid
#   abbreviatedOid repository}, null when the rev or path does not exist; rev = branch, tag,
#   SHA (a fork PR's head SHA too), read with real git. Blob {byteSize isBinary isTruncated
#   text}: isBinary = a NUL byte or not UTF-8 (text null); text cut at BLOB_TEXT_LIMIT
#   (512,000 bytes, as GitHub does) with isTruncated; a symlink's blob is its target text.
#   Tree {entries {name path type mode (Int, e.g. 0o120000 = a symlink) oid size extension
#   object}}; Commit {message messageHeadline authoredDate committedDate url tree}; Tag {name
#   message target}. Many aliased `object` fields of one Repository are read with one
#   `git cat-file --batch` (and, like everything in one query, count as ONE request).
#   PullRequest {… headRefOid baseRefOid reviewThreads(…) reviews(first|last ≤ 100, after,
#   before, author, states)}; PullRequestReview {id databaseId body state author {login}
#   commit {oid} submittedAt createdAt url comments(first …)}: the recorded reviews, oldest
#   first; a PENDING one only when the viewer (the bot) wrote it.
#   PullRequest.reviewThreads(first|last ≤ 100, after, before) {nodes edges pageInfo totalCount};
#   PullRequestReviewThread {id isResolved isOutdated path line startLine diffSide
#   comments(first …)}; PullRequestReviewComment {id databaseId body path line author {login}
#   isMinimized minimizedReason url …}; mutations resolveReviewThread, unresolveReviewThread
#   (input: {threadId}), minimizeComment(input: {subjectId, classifier}). node(id) finds threads,
#   review comments and reviews. Variables, aliases, fragments (inline `... on Blob` too),
#   __typename, @include/@skip, fields of one response key merged. Unknown fields, arguments,
#   operations, invalid enum/oid values: 200 {"errors": [...]} and no data; connections need
#   first or last (≤ 100): that field is null with an error. No other limits (node count, cost).
# =====================================================================================
import asyncio
import base64
import contextlib
import dataclasses
import functools
import inspect
import itertools
import json
import posixpath
import queue
import random
import re
import secrets
import threading
import time
import traceback
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self, cast
from urllib.parse import quote

import jsonschema  # type: ignore[import-untyped]
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gitrepo import FileSpec, GitError, GitRepo

API_DOCS = "https://docs.github.com/rest"
HTML_ROOT = "https://github.invalid"
GHES_PREFIX = "/api/v3"
CONTENTS_LIMIT = 1024 * 1024
BLOB_LIMIT = 100 * 1024 * 1024
MAX_PR_FILES = 3000
MAX_COMPARE_FILES = 300
MAX_COMPARE_COMMITS = 250
MAX_BODY = 65536
SUBSET_PATH = Path(__file__).parent / "data" / "openapi-subset.json"
ZERO_SHA = "0" * 40
JSONValue = Any


# ----------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class AppKey:
    """An RSA key pair in PEM form: the app signs JWTs with the private key, the fake verifies."""

    private_pem: str
    public_pem: str


def generate_app_key(bits: int = 2048) -> AppKey:
    """A fresh RSA key pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKey(private, public)


@functools.cache
def shared_app_key() -> AppKey:
    """One key pair per test process (RSA generation costs ~0.1 s)."""
    return generate_app_key()


# ----------------------------------------------------------------------------- small helpers


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


def _same_login(a: str, b: str) -> bool:
    """Whether two logins name one account (case-insensitive; "app" and "app[bot]" alike)."""
    return a.lower().removesuffix("[bot]") == b.lower().removesuffix("[bot]")


def _ids(start: int = 1) -> Callable[[], int]:
    counter = itertools.count(start)
    return lambda: next(counter)


# ----------------------------------------------------------------------------- diffs


@dataclass(frozen=True)
class DiffLine:
    """One line of a patch: kind ' ', '+', '-' or '\\'; old/new line numbers; diff position."""

    kind: str
    old: int | None
    new: int | None
    position: int
    text: str


@dataclass(frozen=True)
class Hunk:
    """A hunk of a file's patch, with its header's own position (0 for the first hunk)."""

    header: str
    header_position: int
    lines: tuple[DiffLine, ...]

    def side_lines(self, side: str) -> set[int]:
        """Line numbers a comment may target on SIDE ("RIGHT": added/context, "LEFT": removed/context)."""
        if side == "LEFT":
            return {ln.old for ln in self.lines if ln.kind in " -" and ln.old is not None}
        return {ln.new for ln in self.lines if ln.kind in " +" and ln.new is not None}

    def line_at(self, side: str, number: int) -> DiffLine | None:
        """The diff line for line NUMBER on SIDE."""
        for ln in self.lines:
            if side == "LEFT" and ln.kind in " -" and ln.old == number:
                return ln
            if side != "LEFT" and ln.kind in " +" and ln.new == number:
                return ln
        return None


HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_patch(patch: str) -> list[Hunk]:
    """The hunks of a GitHub `patch` string (hunks only, no file headers)."""
    hunks: list[Hunk] = []
    header = ""
    header_pos = 0
    lines: list[DiffLine] = []
    old = new = 0
    position = -1
    for text in patch.split("\n"):
        m = HUNK_HEADER.match(text)
        if m:
            if header:
                hunks.append(Hunk(header, header_pos, tuple(lines)))
            position += 1
            header, header_pos, lines = text, position, []
            old, new = int(m.group(1)), int(m.group(3))
            continue
        if not header:
            continue
        position += 1
        kind = text[:1] or " "
        if kind == "+":
            lines.append(DiffLine("+", None, new, position, text))
            new += 1
        elif kind == "-":
            lines.append(DiffLine("-", old, None, position, text))
            old += 1
        elif kind == "\\":
            lines.append(DiffLine("\\", None, None, position, text))
        else:
            lines.append(DiffLine(" ", old, new, position, text))
            old += 1
            new += 1
    if header:
        hunks.append(Hunk(header, header_pos, tuple(lines)))
    return hunks


@dataclass(frozen=True)
class DiffFile:
    """One changed file between two commits, as GitHub's files lists describe it."""

    filename: str
    status: str
    previous_filename: str | None
    additions: int
    deletions: int
    sha: str
    old_sha: str
    old_mode: str
    new_mode: str
    patch: str | None
    binary: bool

    def hunks(self) -> list[Hunk]:
        """Parsed hunks of the patch (none when the patch is omitted)."""
        return parse_patch(self.patch) if self.patch else []


STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


def _hunks_of(section: bytes) -> str | None:
    """The hunks of one file's `git diff` output (all its "diff --git" sections), or None if binary."""
    if re.search(rb"(?m)^(Binary files |GIT binary patch)", section):
        return None
    parts = [p[p.find(b"\n@@ ") + 1 :] for p in re.split(rb"(?m)^(?=diff --git )", section) if b"\n@@ " in p]
    return b"".join(parts).decode("utf-8", errors="replace").removesuffix("\n")


def diff_files(git: GitRepo, base: str, head: str, *, max_patch_chars: int) -> list[DiffFile]:
    """The files changed from BASE to HEAD, from real `git diff` (rename detection on)."""
    opts = ("-M", "--no-color", "--no-ext-diff", "--ignore-submodules=none")
    raw = git.git_bytes("diff", "--raw", "-z", "--no-abbrev", *opts, base, head).split(b"\0")
    numstat = git.git_bytes("diff", "--numstat", "-z", *opts, base, head).split(b"\0")
    patch = git.git_bytes("diff", "--patch", "-U3", "--full-index", *opts, base, head)
    sections = [s for s in re.split(rb"(?m)^(?=diff --git )", patch) if s.startswith(b"diff --git ")]

    counts: list[tuple[int, int]] = []
    i = 0
    while i < len(numstat) and numstat[i]:
        added, deleted, path = numstat[i].decode().split("\t", 2)
        i += 3 if path == "" else 1  # a rename: the two paths follow as their own fields
        counts.append((int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0))

    entries: list[tuple[str, str, str, str, str, str | None, str]] = []
    i = 0
    while i < len(raw) and raw[i].startswith(b":"):
        old_mode, new_mode, old_sha, new_sha, code = raw[i][1:].decode().split(" ")
        if code[0] in "RC":
            entries.append((old_mode, new_mode, old_sha, new_sha, code[0], raw[i + 1].decode(), raw[i + 2].decode()))
            i += 3
        else:
            entries.append((old_mode, new_mode, old_sha, new_sha, code[0], None, raw[i + 1].decode()))
            i += 2

    # git prints one "diff --git" section per entry, except a type change (file <-> symlink),
    # printed as a removal and an addition. Should that ever not line up, diff file by file.
    takes = [2 if e[4] == "T" else 1 for e in entries]
    per_entry: list[bytes] = []
    if sum(takes) == len(sections) and len(counts) == len(entries):
        at = 0
        for take in takes:
            per_entry.append(b"".join(sections[at : at + take]))
            at += take
    else:
        for e in entries:
            paths = [p for p in (e[5], e[6]) if p is not None]
            per_entry.append(
                git.git_bytes("--literal-pathspecs", "diff", "--patch", "--full-index", *opts, base, head, "--", *paths)
            )

    out: list[DiffFile] = []
    for n, (old_mode, new_mode, old_sha, new_sha, letter, previous, filename) in enumerate(entries):
        text = per_entry[n]
        binary = bool(re.search(rb"(?m)^(Binary files |GIT binary patch)", text))
        body = _hunks_of(text) or None
        if body is not None and len(body) > max_patch_chars:
            body = None
        additions, deletions = counts[n] if n < len(counts) else (0, 0)
        out.append(
            DiffFile(
                filename=filename,
                status=STATUS.get(letter, "modified"),
                previous_filename=previous,
                additions=additions,
                deletions=deletions,
                sha=new_sha if letter != "D" else old_sha,
                old_sha=old_sha,
                old_mode=old_mode,
                new_mode=new_mode,
                patch=body,
                binary=binary,
            )
        )
    return out



# ----------------------------------------------------------------------------- git objects (GraphQL)


@dataclass(frozen=True)
class RawGitObject:
    """One object as `git cat-file --batch` prints it."""

    oid: str
    type: str  # blob, tree, commit, tag
    data: bytes


_BATCH_HEADER = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)")


def _cat_file_batch(git: GitRepo, names: Sequence[str]) -> list[RawGitObject | None]:
    out = git.git_bytes("cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode())
    found: list[RawGitObject | None] = []
    pos = 0
    for _ in names:
        end = out.index(b"\n", pos)
        m = _BATCH_HEADER.fullmatch(out[pos:end])
        pos = end + 1
        if m is None:  # "<name> missing" / "<name> ambiguous"
            found.append(None)
            continue
        size = int(m[3])
        found.append(RawGitObject(m[1].decode(), m[2].decode(), out[pos : pos + size]))
        pos += size + 1
    return found


def _plain_rev(name: str) -> bool:
    """Whether NAME is a revision GitHub could know: not the index (":path", ":0:path"), a reflog
    or upstream ("@{…}"), or a path relative to the working directory ("rev:./x", "rev:../x")."""
    if not name or any(c in name for c in "\n\r\0") or name.startswith(":") or "@{" in name:
        return False
    _, colon, path = name.partition(":")
    return not (colon and (path.startswith(("./", "../")) or path in (".", "..")))


def read_git_objects(git: GitRepo, names: Sequence[str]) -> list[RawGitObject | None]:
    """The objects that NAMES ("<rev>:<path>", "<rev>", an oid) resolve to in GIT, None where none does.

    One `git cat-file --batch` for all of them; should git give up on the whole batch (a path
    like "main:../x" is fatal to it), each name is read on its own.
    """
    usable = [n for n in names if _plain_rev(n)]
    found: dict[str, RawGitObject | None] = {}
    if usable:
        try:
            found = dict(zip(usable, _cat_file_batch(git, usable), strict=True))
        except (GitError, ValueError):
            for name in usable:
                try:
                    found[name] = _cat_file_batch(git, [name])[0]
                except (GitError, ValueError):
                    found[name] = None
    return [found.get(n) for n in names]


BLOB_TEXT_LIMIT = 512_000  # GraphQL Blob.text is cut at exactly 512,000 bytes (isTruncated: true)


def blob_text(data: bytes) -> tuple[bool, bool, str | None]:
    """(isBinary, isTruncated, text) of a blob as GitHub's GraphQL Blob reports it.

    Binary: a NUL byte anywhere, or not valid UTF-8. Text: the first BLOB_TEXT_LIMIT bytes
    (less the tail of a character the cut splits), null when binary.
    """
    truncated = len(data) > BLOB_TEXT_LIMIT
    if b"\0" in data:
        return True, truncated, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True, truncated, None
    if truncated:
        text = data[:BLOB_TEXT_LIMIT].decode("utf-8", errors="ignore")
    return False, truncated, text


# ----------------------------------------------------------------------------- state


@dataclass
class FakeApp:
    """The GitHub App the bot authenticates as."""

    app_id: int
    slug: str
    client_id: str
    private_pem: str
    public_pem: str
    name: str = "unroot"
    owner: str = "unroot-dev"

    @property
    def bot_login(self) -> str:
        """The login of the app's bot user, as comments and reviews show it."""
        return f"{self.slug}[bot]"

    @property
    def bot_id(self) -> int:
        """The bot user's numeric id."""
        return 41898282 + self.app_id


@dataclass
class Installation:
    """An installation of the app on an account, with the repositories it may access."""

    id: int
    account: str
    repos: set[str] = field(default_factory=set)
    suspended: bool = False
    created_at: float = field(default_factory=time.time)


@dataclass
class FakeRepo:
    """A repository: name, git repository on disk, default branch."""

    full_name: str
    git: GitRepo
    default_branch: str
    id: int
    private: bool = False
    fork_of: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def owner(self) -> str:
        """The owner's login."""
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The repository's name without the owner."""
        return self.full_name.split("/", 1)[1]


@dataclass
class PullRequest:
    """An open pull request; base/head SHAs are commits of the base repository's git."""

    repo: str
    number: int
    id: int
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    head_repo: str
    title: str = "Change"
    body: str = ""
    draft: bool = False
    state: str = "open"
    author: str = "octocat"
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def is_fork(self) -> bool:
        """Whether the head lives in another repository."""
        return self.head_repo != self.repo


@dataclass
class Token:
    """An installation access token."""

    value: str
    installation_id: int
    expires_at: float
    repos: frozenset[str] | None = None
    permissions: dict[str, str] | None = None

    def valid(self, now: float | None = None) -> bool:
        """Not yet expired."""
        return (time.time() if now is None else now) < self.expires_at


@dataclass
class CheckRun:
    """A check run as the bot created and updated it."""

    id: int
    repo: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: float | None
    completed_at: float | None
    output: dict[str, Any]
    annotations: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    details_url: str | None
    external_id: str | None
    created_at: float
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every POST/PATCH body, in order


@dataclass
class Review:
    """A pull request review."""

    id: int
    repo: str
    pull_number: int
    state: str
    event: str | None
    body: str
    commit_id: str
    comment_ids: list[int]
    submitted_at: float | None
    user: str
    created_at: float = field(default_factory=time.time)


@dataclass
class ReviewComment:
    """An inline review comment."""

    id: int
    node_id: str
    repo: str
    pull_number: int
    review_id: int
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    position: int | None
    body: str
    commit_id: str
    diff_hunk: str
    user: str
    created_at: float
    thread_id: str
    minimized_reason: str | None = None


@dataclass
class ReviewThread:
    """A review thread (one per inline comment the bot posts)."""

    id: str
    repo: str
    pull_number: int
    comment_ids: list[int]
    path: str
    line: int | None
    start_line: int | None
    side: str
    start_side: str | None
    is_resolved: bool = False
    resolved_by: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake answered."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: JSONValue
    status: int
    auth: str
    headers: dict[str, str]
    started: float
    duration: float

    @property
    def call(self) -> str:
        """ "METHOD route" (or "METHOD path" when no route matched)."""
        return f"{self.method} {self.route or self.path}"


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


@dataclass
class Reply:
    """A handler's answer."""

    status: int
    body: JSONValue = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


def error(status: int, message: str, *, errors: list[Any] | None = None, doc: str = API_DOCS) -> Reply:
    """GitHub's error body."""
    body: dict[str, Any] = {"message": message, "documentation_url": doc}
    if errors is not None:
        body["errors"] = errors
    body["status"] = str(status)
    return Reply(status, body)


def not_found() -> Reply:
    """404 Not Found."""
    return error(404, "Not Found")


# ----------------------------------------------------------------------------- OpenAPI subset


def _date_time(value: object) -> bool:
    """RFC 3339 date-time (what GitHub accepts for started_at/completed_at)."""
    if not isinstance(value, str):
        return True
    return bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value))


class OpenAPISubset:
    """Validators for the request and response bodies in tests/data/openapi-subset.json."""

    def __init__(self, document: dict[str, Any]) -> None:
        # GitHub answers `line: null` for an outdated review comment although the description
        # types it as a plain integer; let the fake say what GitHub says.
        comment = document.get("components", {}).get("schemas", {}).get("pull-request-review-comment", {})
        for name in ("line", "start_line", "original_line", "position"):
            prop = comment.get("properties", {}).get(name)
            if isinstance(prop, dict) and prop.get("type") == "integer":
                prop["type"] = ["integer", "null"]
        self.document = document
        self.source: dict[str, Any] = document.get("source", {})
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(_date_time)
        self._checker = checker
        self._validators: dict[str, Any] = {}

    @classmethod
    @functools.cache
    def load(cls, path: Path = SUBSET_PATH) -> OpenAPISubset:
        """The vendored subset (read once per process)."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _validator(self, kind: str, op: str) -> Any:
        key = f"{kind}/{op}"
        if key not in self._validators:
            root = {k: v for k, v in self.document.items() if k != "$ref"}
            root["$ref"] = f"#/{kind}/{op.replace('~', '~0').replace('/', '~1')}/schema"
            self._validators[key] = jsonschema.Draft4Validator(root, format_checker=self._checker)
        return self._validators[key]

    def has(self, kind: Literal["requests", "responses"], op: str) -> bool:
        """Whether the subset describes this operation's request/response body."""
        return op in self.document.get(kind, {})

    def errors(self, kind: Literal["requests", "responses"], op: str, instance: JSONValue) -> list[str]:
        """Validation messages ("at path: message"), best first; empty when valid."""
        if not self.has(kind, op):
            return []
        found = sorted(self._validator(kind, op).iter_errors(instance), key=jsonschema.exceptions.relevance)
        out = []
        for e in found:
            where = "/".join(map(str, e.absolute_path)) or "(root)"
            message = e.message if len(e.message) <= 200 else e.message[:200] + "…"
            rule = e.validator_value if isinstance(e.validator_value, int | str | bool) else "…"
            out.append(f"{where}: {message} ({e.validator}: {rule})")
        return out


# ----------------------------------------------------------------------------- GraphQL


class GraphQLError(Exception):
    """A query/validation error: the whole request fails with {"errors": [...]} and no data."""

    def __init__(self, message: str, *, path: list[str | int] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.extra = extra


class ResolveError(Exception):
    """An execution error on one field: it becomes null and the error is listed (type e.g. NOT_FOUND)."""

    def __init__(self, message: str, type_: str = "NOT_FOUND") -> None:
        super().__init__(message)
        self.message = message
        self.type = type_


@dataclass(frozen=True)
class Var:
    """A $variable reference in a query."""

    name: str


@dataclass(frozen=True)
class EnumValue:
    """A bare enum literal in a query."""

    name: str


@dataclass
class GField:
    """A field selection."""

    name: str
    alias: str | None
    args: dict[str, Any]
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any] | None
    line: int
    column: int

    @property
    def key(self) -> str:
        """The response key."""
        return self.alias or self.name


@dataclass
class GInline:
    """An inline fragment (`... on Type { }` or `... @include(if: $x) { }`)."""

    type_condition: str | None
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any]


@dataclass
class GSpread:
    """A named fragment spread."""

    name: str
    directives: list[tuple[str, dict[str, Any]]]


@dataclass
class GVarDef:
    """A variable definition of an operation."""

    name: str
    type: str
    default: Any
    has_default: bool


@dataclass
class GOperation:
    """An operation definition."""

    kind: str
    name: str | None
    variables: list[GVarDef]
    selections: list[Any]


@dataclass
class GFragment:
    """A fragment definition."""

    name: str
    type_condition: str
    selections: list[Any]


GQL_TOKEN = re.compile(
    r'(?P<ws>[\s,\ufeff]+|#[^\n]*)|(?P<block>"""(?:\\"""|[^"]|"(?!""))*""")|(?P<str>"(?:\\.|[^"\\\n])*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>\.\.\.|[!$()\:=@\[\]{}|&])"
)


class GraphQLParser:
    """A recursive-descent parser for GraphQL executable documents."""

    def __init__(self, source: str) -> None:
        self.tokens: list[tuple[str, str, int, int]] = []
        pos = 0
        line, line_start = 1, 0
        while pos < len(source):
            m = GQL_TOKEN.match(source, pos)
            if not m:
                raise GraphQLError(
                    f'Parse error on "{source[pos]}" at [{line}, {pos - line_start + 1}]',
                    locations=[{"line": line, "column": pos - line_start + 1}],
                )
            kind = cast(str, m.lastgroup)
            if kind != "ws":
                self.tokens.append((kind, m.group(), line, pos - line_start + 1))
            for nl in re.finditer("\n", m.group()):
                line += 1
                line_start = m.start() + nl.end()
            pos = m.end()
        self.i = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v, _, _ = self.tokens[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int, int]:
        if not self.peek(value, kind):
            if self.i >= len(self.tokens):
                raise GraphQLError("Parse error on end of input (expected " + (value or kind or "token") + ")")
            _, got, ln, col = self.tokens[self.i]
            raise GraphQLError(f'Parse error on "{got}" at [{ln}, {col}]', locations=[{"line": ln, "column": col}])
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def document(self) -> tuple[list[GOperation], dict[str, GFragment]]:
        ops: list[GOperation] = []
        frags: dict[str, GFragment] = {}
        if not self.tokens:
            raise GraphQLError("Parse error on end of input (expected a definition)")
        while self.i < len(self.tokens):
            if self.peek("{"):
                ops.append(GOperation("query", None, [], self.selection_set()))
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")[1]
                self.take("on")
                cond = self.take(kind="name")[1]
                self.directives()
                frags[name] = GFragment(name, cond, self.selection_set())
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.take()[1]
                op_name = self.take(kind="name")[1] if self.peek(kind="name") else None
                variables = self.variable_definitions() if self.peek("(") else []
                self.directives()
                ops.append(GOperation(kind, op_name, variables, self.selection_set()))
            else:
                self.take("{")
        return ops, frags

    def variable_definitions(self) -> list[GVarDef]:
        self.take("(")
        out: list[GVarDef] = []
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")[1]
            self.take(":")
            type_ = self.type_ref()
            default: Any = None
            has_default = False
            if self.peek("="):
                self.take()
                default, has_default = self.value(const=True), True
            self.directives()
            out.append(GVarDef(name, type_, default, has_default))
        self.take(")")
        return out

    def type_ref(self) -> str:
        if self.peek("["):
            self.take()
            inner = self.type_ref()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")[1]
        if self.peek("!"):
            self.take()
            text += "!"
        return text

    def directives(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        while self.peek("@"):
            self.take()
            name = self.take(kind="name")[1]
            out.append((name, self.arguments() if self.peek("(") else {}))
        return out

    def selection_set(self) -> list[Any]:
        self.take("{")
        out: list[Any] = []
        while not self.peek("}"):
            out.append(self.selection())
        self.take("}")
        if not out:
            raise GraphQLError("Parse error: empty selection set")
        return out

    def selection(self) -> Any:
        if self.peek("..."):
            self.take()
            if self.peek("on"):
                self.take()
                cond = self.take(kind="name")[1]
                return GInline(cond, self.directives(), self.selection_set())
            if self.peek(kind="name"):
                return GSpread(self.take()[1], self.directives())
            return GInline(None, self.directives(), self.selection_set())
        _, name, ln, col = self.take(kind="name")
        alias = None
        if self.peek(":"):
            self.take()
            alias, name = name, self.take(kind="name")[1]
        args = self.arguments() if self.peek("(") else {}
        directives = self.directives()
        selections = self.selection_set() if self.peek("{") else None
        return GField(name, alias, args, directives, selections, ln, col)

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        out: dict[str, Any] = {}
        while not self.peek(")"):
            name = self.take(kind="name")[1]
            self.take(":")
            out[name] = self.value()
        self.take(")")
        return out

    def value(self, const: bool = False) -> Any:
        if self.peek("$") and not const:
            self.take()
            return Var(self.take(kind="name")[1])
        if self.peek("["):
            self.take()
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if self.peek("{"):
            self.take()
            obj: dict[str, Any] = {}
            while not self.peek("}"):
                key = self.take(kind="name")[1]
                self.take(":")
                obj[key] = self.value(const)
            self.take("}")
            return obj
        kind, text, _, _ = self.take()
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "str":
            return json.loads(text)
        if kind == "block":
            return text[3:-3].replace('\\"""', '"""')
        if kind == "name":
            literals: dict[str, Any] = {"true": True, "false": False, "null": None}
            return literals[text] if text in literals else EnumValue(text)
        raise GraphQLError(f'Parse error on "{text}"')


@dataclass(frozen=True)
class FieldDef:
    """A field of an object type in the fake's GraphQL schema."""

    type: str  # "Type", "[Type]" for lists; scalars are leaf types
    args: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


def _f(type_: str, *args: str, required: Iterable[str] = ()) -> FieldDef:
    return FieldDef(type_, frozenset(args), frozenset(required))


CONN_ARGS = ("first", "last", "after", "before")
GQL_SCALARS = frozenset(
    {
        "ID",
        "String",
        "Int",
        "Boolean",
        "Float",
        "DateTime",
        "URI",
        "GitObjectID",
        "DiffSide",
        "HTML",
        "PullRequestReviewState",
    }
)
REVIEW_STATES = frozenset({"PENDING", "COMMENTED", "APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
GQL_INTERFACES: dict[str, frozenset[str]] = {
    "Node": frozenset(
        {
            "Repository",
            "PullRequest",
            "PullRequestReview",
            "PullRequestReviewThread",
            "PullRequestReviewComment",
            "Bot",
            "User",
            "Organization",
            "Blob",
            "Tree",
            "Commit",
            "Tag",
        }
    ),
    "Actor": frozenset({"Bot", "User"}),
    "Minimizable": frozenset({"PullRequestReviewComment"}),
    "Comment": frozenset({"PullRequestReview", "PullRequestReviewComment"}),
    "GitObject": frozenset({"Blob", "Tree", "Commit", "Tag"}),
    "RepositoryOwner": frozenset({"User", "Organization"}),
}
GQL_SCHEMA: dict[str, dict[str, FieldDef]] = {
    "Query": {
        "repository": _f("Repository", "owner", "name", "followRenames", required=("owner", "name")),
        "node": _f("Node", "id", required=("id",)),
        "viewer": _f("Actor"),
    },
    "Mutation": {
        "resolveReviewThread": _f("ResolveReviewThreadPayload", "input", required=("input",)),
        "unresolveReviewThread": _f("UnresolveReviewThreadPayload", "input", required=("input",)),
        "minimizeComment": _f("MinimizeCommentPayload", "input", required=("input",)),
    },
    "Node": {"id": _f("ID")},
    "Actor": {"login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "RepositoryOwner": {"id": _f("ID"), "login": _f("String")},
    "User": {"id": _f("ID"), "login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "Organization": {"id": _f("ID"), "login": _f("String")},
    "Bot": {"id": _f("ID"), "login": _f("String"), "url": _f("URI"), "avatarUrl": _f("URI", "size")},
    "Minimizable": {"isMinimized": _f("Boolean"), "minimizedReason": _f("String"), "viewerCanMinimize": _f("Boolean")},
    "Comment": {"id": _f("ID"), "body": _f("String"), "author": _f("Actor"), "createdAt": _f("DateTime")},
    "Repository": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "name": _f("String"),
        "nameWithOwner": _f("String"),
        "owner": _f("RepositoryOwner"),
        "isPrivate": _f("Boolean"),
        "url": _f("URI"),
        "pullRequest": _f("PullRequest", "number", required=("number",)),
        "object": _f("GitObject", "expression", "oid"),
    },
    "PullRequest": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "number": _f("Int"),
        "title": _f("String"),
        "state": _f("String"),
        "isDraft": _f("Boolean"),
        "url": _f("URI"),
        "headRefName": _f("String"),
        "headRefOid": _f("GitObjectID"),
        "baseRefName": _f("String"),
        "baseRefOid": _f("GitObjectID"),
        "reviewThreads": _f("PullRequestReviewThreadConnection", *CONN_ARGS),
        "reviews": _f("PullRequestReviewConnection", *CONN_ARGS, "author", "states"),
    },
    "PullRequestReviewConnection": {
        "nodes": _f("[PullRequestReview]"),
        "edges": _f("[PullRequestReviewEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewEdge": {"node": _f("PullRequestReview"), "cursor": _f("String")},
    "PullRequestReview": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "fullDatabaseId": _f("String"),
        "body": _f("String"),
        "bodyText": _f("String"),
        "state": _f("PullRequestReviewState"),
        "author": _f("Actor"),
        "commit": _f("Commit"),
        "submittedAt": _f("DateTime"),
        "createdAt": _f("DateTime"),
        "url": _f("URI"),
        "viewerDidAuthor": _f("Boolean"),
        "pullRequest": _f("PullRequest"),
        "comments": _f("PullRequestReviewCommentConnection", *CONN_ARGS),
    },
    "PullRequestReviewThreadConnection": {
        "nodes": _f("[PullRequestReviewThread]"),
        "edges": _f("[PullRequestReviewThreadEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewThreadEdge": {"node": _f("PullRequestReviewThread"), "cursor": _f("String")},
    "PullRequestReviewThread": {
        "id": _f("ID"),
        "isResolved": _f("Boolean"),
        "isOutdated": _f("Boolean"),
        "isCollapsed": _f("Boolean"),
        "path": _f("String"),
        "line": _f("Int"),
        "originalLine": _f("Int"),
        "startLine": _f("Int"),
        "originalStartLine": _f("Int"),
        "diffSide": _f("DiffSide"),
        "startDiffSide": _f("DiffSide"),
        "viewerCanResolve": _f("Boolean"),
        "viewerCanUnresolve": _f("Boolean"),
        "resolvedBy": _f("User"),
        "pullRequest": _f("PullRequest"),
        "comments": _f("PullRequestReviewCommentConnection", *CONN_ARGS, "skip"),
    },
    "PullRequestReviewCommentConnection": {
        "nodes": _f("[PullRequestReviewComment]"),
        "edges": _f("[PullRequestReviewCommentEdge]"),
        "pageInfo": _f("PageInfo"),
        "totalCount": _f("Int"),
    },
    "PullRequestReviewCommentEdge": {"node": _f("PullRequestReviewComment"), "cursor": _f("String")},
    "PullRequestReviewComment": {
        "id": _f("ID"),
        "databaseId": _f("Int"),
        "fullDatabaseId": _f("String"),
        "body": _f("String"),
        "path": _f("String"),
        "line": _f("Int"),
        "originalLine": _f("Int"),
        "startLine": _f("Int"),
        "diffHunk": _f("String"),
        "outdated": _f("Boolean"),
        "url": _f("URI"),
        "createdAt": _f("DateTime"),
        "author": _f("Actor"),
        "viewerDidAuthor": _f("Boolean"),
        "commit": _f("Commit"),
        "isMinimized": _f("Boolean"),
        "minimizedReason": _f("String"),
        "viewerCanMinimize": _f("Boolean"),
    },
    "GitObject": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
    },
    "Blob": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "byteSize": _f("Int"),
        "isBinary": _f("Boolean"),
        "isTruncated": _f("Boolean"),
        "text": _f("String"),
    },
    "Tree": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "entries": _f("[TreeEntry]"),
    },
    "TreeEntry": {
        "name": _f("String"),
        "path": _f("String"),
        "type": _f("String"),
        "mode": _f("Int"),
        "oid": _f("GitObjectID"),
        "size": _f("Int"),
        "extension": _f("String"),
        "object": _f("GitObject"),
        "repository": _f("Repository"),
    },
    "Commit": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "message": _f("String"),
        "messageHeadline": _f("String"),
        "authoredDate": _f("DateTime"),
        "committedDate": _f("DateTime"),
        "url": _f("URI"),
        "tree": _f("Tree"),
    },
    "Tag": {
        "id": _f("ID"),
        "oid": _f("GitObjectID"),
        "abbreviatedOid": _f("String"),
        "repository": _f("Repository"),
        "name": _f("String"),
        "message": _f("String"),
        "target": _f("GitObject"),
    },
    "PageInfo": {
        "hasNextPage": _f("Boolean"),
        "hasPreviousPage": _f("Boolean"),
        "startCursor": _f("String"),
        "endCursor": _f("String"),
    },
    "ResolveReviewThreadPayload": {"thread": _f("PullRequestReviewThread"), "clientMutationId": _f("String")},
    "UnresolveReviewThreadPayload": {"thread": _f("PullRequestReviewThread"), "clientMutationId": _f("String")},
    "MinimizeCommentPayload": {"minimizedComment": _f("Minimizable"), "clientMutationId": _f("String")},
}


def _gql_base(type_: str) -> tuple[str, bool]:
    """("Type", is_list) of a field type."""
    return (type_[1:-1], True) if type_.startswith("[") else (type_, False)


def _possible(type_condition: str, concrete: str) -> bool:
    """Whether an object of CONCRETE type satisfies a fragment on TYPE_CONDITION."""
    return type_condition == concrete or concrete in GQL_INTERFACES.get(type_condition, frozenset())


class GraphQLExecutor:
    """Validates a document against GQL_SCHEMA and executes it over plain dict objects.

    Runtime objects are dicts with "__typename" and, per field, a value or a callable
    taking the field's (variable-substituted) arguments and returning the value or an
    awaitable of it. An optional "__prefetch__" callable gets [(field name, arguments)] of
    all the fields selected on the object before any is resolved (sync or async), so that
    a resolver can batch work, e.g. many aliased `object(expression:)` fields in one git call.
    Fields of one object are resolved one after the other (mutations must be serial anyway).
    """

    def __init__(self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None) -> None:
        ops, self.fragments = GraphQLParser(query).document()
        if operation_name is not None:
            chosen = [op for op in ops if op.name == operation_name]
            if not chosen:
                raise GraphQLError(f'Operation name "{operation_name}" not found')
        elif len(ops) > 1:
            raise GraphQLError("An operation name is required")
        else:
            chosen = ops
        if not chosen:
            raise GraphQLError("No operations in query document")
        self.operation = chosen[0]
        if self.operation.kind == "subscription":
            raise GraphQLError("Subscriptions are not supported")
        self.variables = self._variables(variables or {})
        self.errors: list[dict[str, Any]] = []
        self._validate(self.operation.selections, "Mutation" if self.operation.kind == "mutation" else "Query", [])

    @property
    def root_type(self) -> str:
        """Query or Mutation."""
        return "Mutation" if self.operation.kind == "mutation" else "Query"

    def _variables(self, given: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        declared = {v.name for v in self.operation.variables}
        used = set(self._used_vars(self.operation.selections, set()))
        name = self.operation.name or "anonymous query"
        for var in sorted(used - declared):
            raise GraphQLError(f"Variable ${var} is used by {name} but not declared")
        for v in self.operation.variables:
            if v.name not in used:
                raise GraphQLError(f"Variable ${v.name} is declared by {name} but not used")
            if v.name in given:
                out[v.name] = given[v.name]
            elif v.has_default:
                out[v.name] = v.default
            elif v.type.endswith("!"):
                raise GraphQLError(f"Variable ${v.name} of type {v.type} was provided invalid value")
            else:
                out[v.name] = None
            if v.type.endswith("!") and out[v.name] is None:
                raise GraphQLError(f"Variable ${v.name} of type {v.type} was provided invalid value")
        return out

    def _used_vars(self, selections: list[Any], seen: set[str]) -> Iterable[str]:
        def in_value(value: Any) -> Iterable[str]:
            if isinstance(value, Var):
                yield value.name
            elif isinstance(value, list):
                for item in value:
                    yield from in_value(item)
            elif isinstance(value, dict):
                for item in value.values():
                    yield from in_value(item)

        for sel in selections:
            for _, dargs in sel.directives:
                yield from in_value(dargs)
            if isinstance(sel, GField):
                yield from in_value(sel.args)
                if sel.selections:
                    yield from self._used_vars(sel.selections, seen)
            elif isinstance(sel, GInline):
                yield from self._used_vars(sel.selections, seen)
            elif isinstance(sel, GSpread) and sel.name not in seen and sel.name in self.fragments:
                seen.add(sel.name)
                yield from self._used_vars(self.fragments[sel.name].selections, seen)

    def _validate(self, selections: list[Any], type_: str, path: list[str | int]) -> None:
        fields = GQL_SCHEMA[type_]
        for sel in selections:
            if isinstance(sel, GSpread):
                if sel.name not in self.fragments:
                    raise GraphQLError(f"Fragment {sel.name} was used, but not defined")
                frag = self.fragments[sel.name]
                self._check_type_condition(frag.type_condition, type_)
                self._validate(frag.selections, frag.type_condition, path)
                continue
            if isinstance(sel, GInline):
                cond = sel.type_condition or type_
                self._check_type_condition(cond, type_)
                self._validate(sel.selections, cond, path)
                continue
            if sel.name == "__typename":
                continue
            where = [*path, sel.key]
            loc = [{"line": sel.line, "column": sel.column}]
            if sel.name not in fields:
                raise GraphQLError(
                    f"Field '{sel.name}' doesn't exist on type '{type_}'",
                    path=where,
                    locations=loc,
                    extensions={"code": "undefinedField", "typeName": type_, "fieldName": sel.name},
                )
            fdef = fields[sel.name]
            for arg in sel.args:
                if arg not in fdef.args:
                    raise GraphQLError(
                        f"Field '{sel.name}' doesn't accept argument '{arg}'",
                        path=where,
                        locations=loc,
                        extensions={"code": "argumentNotAccepted", "name": sel.name, "argumentName": arg},
                    )
            missing = sorted(fdef.required - set(sel.args))
            if missing:
                raise GraphQLError(
                    f"Field '{sel.name}' is missing required arguments: {', '.join(missing)}",
                    path=where,
                    locations=loc,
                )
            base, _ = _gql_base(fdef.type)
            if base in GQL_SCALARS:
                if sel.selections is not None:
                    raise GraphQLError(
                        f"Selections can't be made on scalars (field '{sel.name}' returns {base} but has selections)",
                        path=where,
                        locations=loc,
                    )
            else:
                if sel.selections is None:
                    raise GraphQLError(
                        f"Field must have selections (field '{sel.name}' returns {base} but has no selections. "
                        f"Did you mean '{sel.name} {{ ... }}'?)",
                        path=where,
                        locations=loc,
                    )
                self._validate(sel.selections, base, where)

    @staticmethod
    def _check_type_condition(cond: str, parent: str) -> None:
        if cond not in GQL_SCHEMA:
            raise GraphQLError(f"No such type {cond}, so it can't be a fragment condition")
        overlap = (
            cond == parent
            or parent in GQL_INTERFACES.get(cond, frozenset())
            or cond in GQL_INTERFACES.get(parent, frozenset())
            or bool(GQL_INTERFACES.get(cond, frozenset()) & GQL_INTERFACES.get(parent, frozenset()))
        )
        if not overlap:
            raise GraphQLError(f"Fragment on {cond} can't be spread inside {parent}")

    def _arg(self, value: Any) -> Any:
        if isinstance(value, Var):
            return self.variables.get(value.name)
        if isinstance(value, EnumValue):
            return value.name
        if isinstance(value, list):
            return [self._arg(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        return value

    def _included(self, directives: list[tuple[str, dict[str, Any]]]) -> bool:
        for name, args in directives:
            cond = bool(self._arg(args.get("if")))
            if (name == "include" and not cond) or (name == "skip" and cond):
                return False
        return True

    async def execute(self, root: dict[str, Any]) -> dict[str, Any]:
        """The response body: {"data": ...} plus "errors" when a field failed to resolve."""
        data = await self._object(self.operation.selections, root, [])
        body: dict[str, Any] = {"data": data}
        if self.errors:
            body["errors"] = self.errors
        return body

    def _collect(self, selections: list[Any], typename: str) -> list[GField]:
        out: list[GField] = []
        for sel in selections:
            if not self._included(sel.directives):
                continue
            if isinstance(sel, GField):
                out.append(sel)
            elif isinstance(sel, GInline):
                if sel.type_condition is None or _possible(sel.type_condition, typename):
                    out.extend(self._collect(sel.selections, typename))
            else:
                frag = self.fragments[sel.name]
                if _possible(frag.type_condition, typename):
                    out.extend(self._collect(frag.selections, typename))
        return out

    def _merged(self, fields: list[GField]) -> list[GField]:
        """FIELDS with those of one response key merged (their sub-selections joined), as GraphQL does."""
        by_key: dict[str, GField] = {}
        for sel in fields:
            prev = by_key.get(sel.key)
            if prev is None:
                by_key[sel.key] = sel
                continue
            if prev.name != sel.name or self._arg(prev.args) != self._arg(sel.args):
                raise GraphQLError(
                    f"Field '{sel.key}' has a field conflict: {prev.name} or {sel.name}?"
                    if prev.name != sel.name
                    else f"Field '{sel.key}' has an argument conflict",
                    locations=[{"line": prev.line, "column": prev.column}, {"line": sel.line, "column": sel.column}],
                )
            if prev.selections is not None and sel.selections is not None:
                by_key[sel.key] = dataclasses.replace(prev, selections=[*prev.selections, *sel.selections])
        return list(by_key.values())

    async def _object(self, selections: list[Any], obj: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
        typename = cast(str, obj["__typename"])
        out: dict[str, Any] = {}
        fields = self._merged(self._collect(selections, typename))
        prefetch = obj.get("__prefetch__")
        if callable(prefetch):
            pending = prefetch(
                [(sel.name, {k: self._arg(v) for k, v in sel.args.items()}) for sel in fields if sel.name != "__typename"]
            )
            if inspect.isawaitable(pending):
                await pending
        for sel in fields:
            where = [*path, sel.key]
            if sel.name == "__typename":
                out[sel.key] = typename
                continue
            fdef = GQL_SCHEMA[typename][sel.name]
            raw = obj.get(sel.name)
            try:
                value = raw({k: self._arg(v) for k, v in sel.args.items()}) if callable(raw) else raw
                if inspect.isawaitable(value):
                    value = await value
            except ResolveError as exc:
                self.errors.append(
                    {
                        "type": exc.type,
                        "path": where,
                        "locations": [{"line": sel.line, "column": sel.column}],
                        "message": exc.message,
                    }
                )
                value = None
            out[sel.key] = await self._complete(fdef, sel, value, where)
        return out

    async def _complete(self, fdef: FieldDef, sel: GField, value: Any, path: list[str | int]) -> Any:
        if value is None or sel.selections is None:
            return value
        _, is_list = _gql_base(fdef.type)
        if is_list:
            return [
                None if item is None else await self._object(sel.selections, item, [*path, i])
                for i, item in enumerate(value)
            ]
        return await self._object(sel.selections, value, path)


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _uncursor(cursor: Any, field_name: str) -> int:
    try:
        text = base64.b64decode(str(cursor)).decode()
        prefix, index = text.rsplit(":", 1)
        if prefix != "cursor:v2":
            raise ValueError(text)
        return int(index)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResolveError(f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS") from exc


def connection(items: Sequence[dict[str, Any]], args: Mapping[str, Any], name: str, edge_type: str, type_: str) -> Any:
    """A GitHub-style cursor connection over ITEMS (first/last required, at most 100)."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise ResolveError(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for label, n in (("first", first), ("last", last)):
        if n is not None and (not isinstance(n, int) or n > 100 or n < 0):
            raise ResolveError(
                f"Requesting {n} records on the `{name}` connection exceeds the `{label}` limit of 100 records.",
                "EXCESSIVE_PAGINATION",
            )
    start, stop = 0, len(items)
    if args.get("after") is not None:
        start = max(start, _uncursor(args["after"], name) + 1)
    if args.get("before") is not None:
        stop = min(stop, _uncursor(args["before"], name))
    start += int(args.get("skip") or 0)
    window = list(range(start, max(start, stop)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    has_next = bool(window) and window[-1] < stop - 1 if first is not None else stop < len(items)
    has_prev = bool(window) and window[0] > start if last is not None else start > 0
    return {
        "__typename": type_,
        "nodes": [items[i] for i in window],
        "edges": [{"__typename": edge_type, "node": items[i], "cursor": _cursor(i)} for i in window],
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
        "totalCount": len(items),
    }


# ----------------------------------------------------------------------------- the server

Handler = Callable[["Ctx"], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One REST endpoint of the fake."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: Literal["jwt", "token"]
    op: str | None


@dataclass
class Ctx:
    """What a handler gets: the request, path parameters, decoded body, the caller."""

    request: web.Request
    params: dict[str, str]
    query: Mapping[str, str]
    body: JSONValue
    api: str
    token: Token | None = None
    repo: FakeRepo | None = None

    @property
    def accept(self) -> str:
        """The Accept header, lowercased."""
        return self.request.headers.get("Accept", "").lower()

    def media(self, kind: str) -> bool:
        """Whether the caller asked for a custom media type (raw, object, diff…)."""
        return f"vnd.github.{kind}" in self.accept or f"vnd.github.v3.{kind}" in self.accept


def _template_pattern(template: str) -> re.Pattern[str]:
    greedy = {"path": ".*", "basehead": ".+", "ref": ".+"}

    def group(m: re.Match[str]) -> str:
        return f"(?P<{m.group(1)}>{greedy.get(m.group(1), '[^/]+')})"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", group, re.escape(template)) + "$")


DEFAULT_PERMISSIONS = {"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "write"}
APP_EVENTS = ["check_run", "check_suite", "pull_request", "push"]
SECONDARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
PRIMARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
REVIEW_DOC = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
REPO_URL_SUFFIXES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}
MINIMIZE_REASONS = {
    "SPAM": "spam",
    "ABUSE": "abuse",
    "OFF_TOPIC": "off-topic",
    "OUTDATED": "outdated",
    "DUPLICATE": "duplicate",
    "RESOLVED": "resolved",
}


def secondary_limit_body() -> dict[str, Any]:
    """GitHub's answer to a secondary rate limit."""
    return {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
        "If you reach out to GitHub Support for help, please include the request ID FAKE:0000.",
        "documentation_url": SECONDARY_DOC,
    }


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value).timestamp()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class FakeGitHub:
    """The fake GitHub: REST + GraphQL over aiohttp on 127.0.0.1, state in memory, repos on disk."""

    def __init__(
        self,
        workdir: Path,
        *,
        app_id: int = 4242,
        slug: str = "unroot",
        key: AppKey | None = None,
        token_lifetime: float = 3600.0,
        latency: float = 0.0,
        max_patch_chars: int = 100_000,
        check_responses: bool = True,
        openapi: OpenAPISubset | None = None,
    ) -> None:
        key = key or shared_app_key()
        self.workdir = workdir
        self.app = FakeApp(app_id, slug, f"Iv1.fake{app_id:08x}", key.private_pem, key.public_pem)
        self.token_lifetime = token_lifetime
        self.latency = latency
        self.max_patch_chars = max_patch_chars
        self.check_responses = check_responses
        self.lost_answers: list[Fault] = []
        self.contents_too_large_403 = False  # old behaviour: 403 too_large instead of encoding "none"
        self.require_start_side = True  # GitHub's docs call start_side required for multi-line comments
        self.content_writes_per_minute: int | None = None  # e.g. 80: secondary limit on POST/PATCH bursts
        self._write_times: list[float] = []
        self.rate_limit_total = 5000
        self.enforce_rate_limit = False
        self.openapi = openapi or OpenAPISubset.load()

        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.tokens: dict[str, Token] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.threads: dict[str, ReviewThread] = {}

        self.requests: list[LoggedRequest] = []
        self.calls: Counter[str] = Counter()
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.writes_in_flight = 0
        self.max_writes_in_flight = 0
        self.schema_errors: list[str] = []
        self.internal_errors: list[str] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.fault_rates: dict[str, float] = {}  # e.g. {"502": 0.05, "secondary": 0.01}
        self.fault_random = random.Random(0)
        self.fault_exempt: re.Pattern[str] | None = re.compile(r"^/app/installations/[^/]+/access_tokens$")
        self.fault_retry_after: float = 1
        self.random_faults: Counter[str] = Counter()

        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._next_id = _ids(1001)
        self._next_repo_id = _ids(500)
        self._numbers: dict[str, Callable[[], int]] = {}
        self._owner_ids: dict[str, int] = {}
        self._diff_cache: dict[tuple[str, str, str, int], list[DiffFile]] = {}
        self._commit_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._outdated_cache: dict[tuple[str, str, str, str], bool] = {}
        self._usage: dict[str, tuple[float, int]] = {}
        self.routes = self._routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def ghes_base_url(self) -> str:
        """The REST base URL in GitHub Enterprise Server form (…/api/v3)."""
        return self.base_url + GHES_PREFIX

    @property
    def graphql_url(self) -> str:
        """The GraphQL endpoint, api.github.com style."""
        return self.base_url + "/graphql"

    @property
    def ghes_graphql_url(self) -> str:
        """The GraphQL endpoint, GitHub Enterprise Server style."""
        return self.base_url + "/api/graphql"

    async def start(self) -> FakeGitHub:
        """Serve on 127.0.0.1 at a free port; sets base_url."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ setup API

    def add_installation(
        self, installation_id: int = 1, repos: Iterable[str] = (), *, account: str | None = None
    ) -> Installation:
        """Install the app on ACCOUNT (default: the first repo's owner, else "octo") for REPOS."""
        names = list(repos)
        owner = account or (names[0].split("/")[0] if names else "octo")
        inst = self.installations.get(installation_id)
        if inst is None:
            inst = self.installations[installation_id] = Installation(installation_id, owner)
        for name in names:
            inst.repos.add(self.repo(name).full_name)
        return inst

    def add_repo(
        self,
        full_name: str,
        git: GitRepo | None = None,
        *,
        files: Mapping[str, FileSpec] | None = None,
        default_branch: str = "main",
        installation_id: int | None = None,
        private: bool = False,
    ) -> FakeRepo:
        """Register a repository (a new git repo under workdir unless GIT is given)."""
        if "/" not in full_name:
            raise ValueError(f"{full_name!r}: expected owner/name")
        if git is None:
            initial = files if files is not None else {"README.md": f"# {full_name}\n"}
            git = GitRepo.create(self.workdir / "repos" / full_name, initial, branch=default_branch)
        repo = FakeRepo(full_name, git, default_branch, self._next_repo_id(), private=private)
        self.repos[full_name] = repo
        if installation_id is not None:
            self.add_installation(installation_id, account=repo.owner).repos.add(full_name)
        return repo

    def fork_repo(self, source: str, full_name: str, *, private: bool = False) -> FakeRepo:
        """A fork of SOURCE: a new git repository with all of SOURCE's branches (not installed)."""
        src = self.repo(source)
        git = GitRepo.create(self.workdir / "repos" / full_name, branch=src.default_branch)
        git.git("fetch", "-q", "--no-tags", "--update-head-ok", str(src.git.path), "+refs/heads/*:refs/heads/*")
        git.git("reset", "-q", "--hard", src.default_branch)
        repo = FakeRepo(full_name, git, src.default_branch, self._next_repo_id(), private=private, fork_of=source)
        self.repos[full_name] = repo
        return repo

    def repo(self, full_name: str) -> FakeRepo:
        """A registered repository (owner/name, case-insensitive); KeyError when unknown."""
        found = self._find_repo(full_name)
        if found is None:
            raise KeyError(full_name)
        return found

    def _find_repo(self, full_name: str) -> FakeRepo | None:
        if full_name in self.repos:
            return self.repos[full_name]
        lowered = full_name.lower()
        return next((r for n, r in self.repos.items() if n.lower() == lowered), None)

    def open_pull(
        self,
        repo: str,
        *,
        head: str,
        base: str | None = None,
        head_repo: str | None = None,
        title: str = "Change",
        body: str = "",
        draft: bool = False,
        author: str = "octocat",
    ) -> PullRequest:
        """Open a PR from HEAD (a branch of HEAD_REPO, default REPO) into BASE (default branch)."""
        base_repo = self.repo(repo)
        source = self.repo(head_repo or repo)
        numbers = self._numbers.setdefault(base_repo.full_name, _ids(1))
        pr = PullRequest(
            repo=base_repo.full_name,
            number=numbers(),
            id=self._next_id(),
            base_ref=base or base_repo.default_branch,
            base_sha="",
            head_ref=head,
            head_sha="",
            head_repo=source.full_name,
            title=title,
            body=body,
            draft=draft,
            author=author if source.full_name == base_repo.full_name else source.owner,
        )
        self.pulls[(pr.repo, pr.number)] = pr
        self._sync(pr)
        return pr

    def pull(self, repo: str, number: int) -> PullRequest:
        """A pull request; KeyError when unknown."""
        return self.pulls[(self.repo(repo).full_name, number)]

    def sync_pull(self, repo: str, number: int) -> PullRequest:
        """Re-read the PR's head (fetching a fork's branch again) and base branch tips."""
        pr = self.pull(repo, number)
        self._sync(pr)
        return pr

    def push_pull(
        self,
        repo: str,
        number: int,
        files: Mapping[str, FileSpec | None],
        message: str = "update",
        *,
        renames: Mapping[str, str] | None = None,
    ) -> str:
        """Commit FILES on the PR's head branch (in the head repository); return the new head SHA."""
        pr = self.pull(repo, number)
        self.repo(pr.head_repo).git.commit(files, message, branch=pr.head_ref, renames=renames)
        self._sync(pr)
        return pr.head_sha

    def _sync(self, pr: PullRequest) -> None:
        base_git = self.repo(pr.repo).git
        head_git = self.repo(pr.head_repo).git
        ref = f"refs/pull/{pr.number}/head"
        if pr.is_fork:
            base_git.fetch(head_git, f"+refs/heads/{pr.head_ref}:{ref}")
        else:
            base_git.git("update-ref", ref, head_git.head(pr.head_ref))
        pr.head_sha = base_git.head(ref)
        pr.base_sha = base_git.head(pr.base_ref)
        pr.updated_at = time.time()

    def setup_pull(
        self,
        base_files: Mapping[str, FileSpec],
        head_files: Mapping[str, FileSpec | None],
        *,
        repo: str = "octo/app",
        installation_id: int = 1,
        head: str = "feature",
        base: str = "main",
        head_repo: str | None = None,
        renames: Mapping[str, str] | None = None,
        message: str = "change",
        title: str = "Change",
    ) -> PullRequest:
        """One call for the common case: installation + repo with BASE_FILES on BASE, a branch HEAD
        (in the fork HEAD_REPO when given) with HEAD_FILES committed on top, and an open PR."""
        if installation_id not in self.installations:
            self.add_installation(installation_id, account=repo.split("/")[0])
        if self._find_repo(repo) is None:
            self.add_repo(repo, files=base_files, default_branch=base, installation_id=installation_id)
        else:
            self.installations[installation_id].repos.add(self.repo(repo).full_name)
        source = self.fork_repo(repo, head_repo) if head_repo and self._find_repo(head_repo) is None else None
        git = (source or self.repo(head_repo or repo)).git
        git.branch(head, from_=base)
        git.commit(head_files, message, branch=head, renames=renames)
        return self.open_pull(repo, head=head, base=base, head_repo=head_repo, title=title)

    def issue_token(
        self, installation_id: int = 1, *, lifetime: float | None = None, repos: Iterable[str] | None = None
    ) -> str:
        """An installation token, as POST …/access_tokens would return (no HTTP)."""
        value = "ghs_" + "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36)
        )
        expires = time.time() + (self.token_lifetime if lifetime is None else lifetime)
        self.tokens[value] = Token(
            value, installation_id, expires, frozenset(repos) if repos is not None else None, dict(DEFAULT_PERMISSIONS)
        )
        return value

    def app_jwt(self, **claims: Any) -> str:
        """A valid app JWT (iat 60 s ago, exp in 9 min); CLAIMS override or add claims."""
        now = int(time.time())
        payload: dict[str, Any] = {"iat": now - 60, "exp": now + 540, "iss": str(self.app.app_id)}
        payload.update(claims)
        return jwt.encode(payload, self.app.private_pem, algorithm="RS256")

    def check_runs_for(self, repo: str, sha: str | None = None, name: str | None = None) -> list[CheckRun]:
        """Check runs of REPO (on SHA, named NAME), oldest first."""
        full = self.repo(repo).full_name
        return [
            r
            for r in self.check_runs.values()
            if r.repo == full and (sha is None or r.head_sha == sha) and (name is None or r.name == name)
        ]

    def review_as_user(self, repo: str, number: int, user: str, body: str, comment: tuple[str, int, str] | None = None) -> Review:
        """A review a person posts from the web UI (not through the App's token), optionally with
        one inline comment (path, line, body) that opens a thread."""
        pr = self.pull(repo, number)
        now = time.time()
        review = Review(id=self._next_id(), repo=repo, pull_number=number, state="COMMENTED", event="COMMENT", body=body,
                        commit_id=pr.head_sha, comment_ids=[], submitted_at=now, user=user)
        self.reviews[review.id] = review
        if comment is not None:
            path, line, text = comment
            cid = self._next_id()
            thread_id = node_id("PRRT", cid)
            self.review_comments[cid] = ReviewComment(
                id=cid, node_id=node_id("PRRC", cid), repo=repo, pull_number=number, review_id=review.id, path=path,
                line=line, side="RIGHT", start_line=None, start_side=None, position=None, body=text,
                commit_id=pr.head_sha, diff_hunk="", user=user, created_at=now, thread_id=thread_id,
            )
            review.comment_ids.append(cid)
            self.threads[thread_id] = ReviewThread(id=thread_id, repo=repo, pull_number=number, comment_ids=[cid], path=path,
                                                   line=line, start_line=None, side="RIGHT", start_side=None)
        return review

    def reviews_for(self, repo: str, number: int) -> list[Review]:
        """Reviews of a PR, oldest first (pending ones included)."""
        full = self.repo(repo).full_name
        return [r for r in self.reviews.values() if r.repo == full and r.pull_number == number]

    def comments_for(self, repo: str, number: int) -> list[ReviewComment]:
        """Inline review comments of a PR, oldest first (pending reviews' included)."""
        full = self.repo(repo).full_name
        return [c for c in self.review_comments.values() if c.repo == full and c.pull_number == number]

    def threads_for(self, repo: str, number: int) -> list[ReviewThread]:
        """Review threads of a PR, oldest first."""
        full = self.repo(repo).full_name
        return [t for t in self.threads.values() if t.repo == full and t.pull_number == number]

    def requests_to(self, method: str, route: str) -> list[LoggedRequest]:
        """Logged requests to one endpoint, e.g. ("POST", "/repos/{owner}/{repo}/check-runs")."""
        return [r for r in self.requests if r.method == method.upper() and r.route == route]

    def failures(self) -> list[LoggedRequest]:
        """Logged requests answered with a status >= 400."""
        return [r for r in self.requests if r.status >= 400]

    # ------------------------------------------------------------------ fault injection

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

    def graphql_error_next(self, n: int = 1, type_: str = "FORBIDDEN", message: str = "Resource not accessible by integration") -> None:
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
                return Reply(403, secondary_limit_body(), {"retry-after": str(int(retry) if float(retry).is_integer() else retry)})
            if not key.isdigit() or int(key) < 400:
                raise ValueError(f"fault_rates key {key!r}: use \"secondary\" or an HTTP status >= 400")
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

    # ------------------------------------------------------------------ dispatch

    def _routes(self) -> list[Route]:
        spec: list[tuple[str, str, Handler, Literal["jwt", "token"], str | None]] = [
            ("GET", "/app", self._get_app, "jwt", "apps/get-authenticated"),
            ("GET", "/app/installations/{installation_id}", self._get_installation, "jwt", None),
            (
                "POST",
                "/app/installations/{installation_id}/access_tokens",
                self._create_token,
                "jwt",
                "apps/create-installation-access-token",
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/installation",
                self._get_repo_installation,
                "jwt",
                "apps/get-repo-installation",
            ),
            ("GET", "/repos/{owner}/{repo}", self._get_repo, "token", "repos/get"),
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", self._get_pull, "token", "pulls/get"),
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", self._list_files, "token", "pulls/list-files"),
            ("GET", "/repos/{owner}/{repo}/compare/{basehead}", self._compare, "token", "repos/compare-commits"),
            ("GET", "/repos/{owner}/{repo}/contents", self._get_contents, "token", "repos/get-content"),
            ("GET", "/repos/{owner}/{repo}/contents/{path}", self._get_contents, "token", "repos/get-content"),
            ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", self._get_blob, "token", "git/get-blob"),
            ("POST", "/repos/{owner}/{repo}/check-runs", self._create_check_run, "token", "checks/create"),
            ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", self._get_check_run, "token", "checks/get"),
            (
                "PATCH",
                "/repos/{owner}/{repo}/check-runs/{check_run_id}",
                self._update_check_run,
                "token",
                "checks/update",
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
                self._list_annotations,
                "token",
                "checks/list-annotations",
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/commits/{ref}/check-runs",
                self._list_check_runs,
                "token",
                "checks/list-for-ref",
            ),
            (
                "POST",
                "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
                self._create_review,
                "token",
                "pulls/create-review",
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
                self._list_reviews,
                "token",
                "pulls/list-reviews",
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
                self._list_review_comments,
                "token",
                "pulls/list-review-comments",
            ),
            ("POST", "/graphql", self._graphql, "token", None),
        ]
        return [Route(m, t, _template_pattern(t), h, a, op) for m, t, h, a, op in spec]

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict()
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        method = request.method.upper()
        self.request_count += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        write = method not in ("GET", "HEAD", "OPTIONS")
        if write:
            self.writes_in_flight += 1
            self.max_writes_in_flight = max(self.max_writes_in_flight, self.writes_in_flight)
        path = request.path
        prefix = ""
        if path == "/api/graphql":
            path, prefix = "/graphql", GHES_PREFIX
        elif path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
            path, prefix = path[len(GHES_PREFIX) :] or "/", GHES_PREFIX
        route: Route | None = None
        body: JSONValue = None
        auth = "none"
        lose: Fault | None = None
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            raw = await request.read()
            parsed = True
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    parsed = False
            lose = next((f for f in self.lost_answers if f.remaining > 0 and f.matches(method, path)), None)
            if lose is not None:
                lose.remaining -= 1
                if lose.remaining == 0:
                    self.lost_answers.remove(lose)
            hold = next((h for h in self.holds if h.matches(method, path)), None)
            if hold is not None:
                self.holds.remove(hold)
            fault = self._take_fault(method, path) or self._random_fault(path)
            matched = self._match(method, path)
            route = matched[0] if matched else None
            if hold is not None and not await self._wait_on_hold(hold, request):
                reply = error(499, "client closed the connection while the request was held")
            elif fault is not None:
                reply = fault
            elif not parsed:
                reply = error(400, "Problems parsing JSON")
            elif matched is None:
                reply = not_found()
            else:
                api = f"{request.scheme}://{request.host}{prefix}"
                ctx = Ctx(request, matched[1], request.query, body, api)
                reply, auth = await self._serve(matched[0], ctx)
        except ConnectionResetError:  # the client died mid-request (a SIGKILLed worker): nothing applied
            reply = error(499, "client closed the connection")
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: make it loud
            self.internal_errors.append(traceback.format_exc())
            reply = error(500, f"fake GitHub crashed: {exc!r}")
        finally:
            self.in_flight -= 1
            if write:
                self.writes_in_flight -= 1
        entry = LoggedRequest(
            method=method,
            path=path,
            route=route.template if route else None,
            query=dict(request.query),
            body=body,
            status=reply.status,
            auth=auth,
            headers=dict(request.headers),
            started=started,
            duration=time.time() - started,
        )
        self.requests.append(entry)
        self.calls[entry.call] += 1
        if lose is not None and request.transport is not None:
            request.transport.abort()  # applied, but the answer never reaches the client
        return self._respond(reply)

    def _respond(self, reply: Reply) -> web.Response:
        headers = {
            "X-GitHub-Request-Id": f"FAKE:{self.request_count:06d}",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
        }
        headers.update(reply.headers)
        if reply.raw is not None:
            return web.Response(
                status=reply.status, body=reply.raw, headers={**headers, "Content-Type": reply.content_type}
            )
        if reply.status == 204:
            return web.Response(status=reply.status, headers=headers)
        payload = json.dumps(reply.body).encode()
        return web.Response(status=reply.status, body=payload, headers={**headers, "Content-Type": reply.content_type})

    def _rate_headers(self, key: str, resource: str) -> tuple[dict[str, str], bool]:
        now = time.time()
        window, used = self._usage.get(key, (now, 0))
        if now - window >= 3600:
            window, used = now, 0
        used += 1
        self._usage[key] = (window, used)
        exceeded = self.enforce_rate_limit and used > self.rate_limit_total
        remaining = max(0, self.rate_limit_total - used)
        if not self.enforce_rate_limit:
            remaining = max(1, remaining)
        return {
            "x-ratelimit-limit": str(self.rate_limit_total),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(min(used, self.rate_limit_total)),
            "x-ratelimit-reset": str(int(window + 3600)),
            "x-ratelimit-resource": resource,
        }, exceeded

    async def _serve(self, route: Route, ctx: Ctx) -> tuple[Reply, str]:
        if route.auth == "jwt":
            problem = self._check_jwt(ctx.request)
            if problem is not None:
                return problem, "jwt-invalid"
            rate, _ = self._rate_headers("app", "core")
            reply = await self._handle(route, ctx)
            reply.headers = {**rate, **reply.headers}
            return reply, "jwt"
        found = self._check_token(ctx.request)
        if isinstance(found, Reply):
            return found, "token-invalid"
        ctx.token = found
        resource = "graphql" if route.template == "/graphql" else "core"
        rate, exceeded = self._rate_headers(f"{found.installation_id}:{resource}", resource)
        if exceeded:
            reply = error(403, f"API rate limit exceeded for installation ID {found.installation_id}.", doc=PRIMARY_DOC)
            reply.headers = rate
            return reply, "token"
        if self.content_writes_per_minute is not None and route.method != "GET" and route.template != "/graphql":
            now = time.time()
            self._write_times = [t for t in self._write_times if now - t < 60]
            if len(self._write_times) >= self.content_writes_per_minute:
                wait = max(1, int(60 - (now - self._write_times[0]) + 0.999))
                return Reply(403, secondary_limit_body(), {**rate, "retry-after": str(wait)}), "token"
            self._write_times.append(now)
        if "owner" in ctx.params:
            repo = self._find_repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
            denied = self._access(found, repo, write=route.method != "GET")
            if denied is not None:
                denied.headers = {**rate, **denied.headers}
                return denied, "token"
            ctx.repo = repo
        reply = await self._handle(route, ctx)
        reply.headers = {**rate, **reply.headers}
        return reply, "token"

    async def _handle(self, route: Route, ctx: Ctx) -> Reply:
        if route.op is not None and route.method in ("POST", "PATCH") and self.openapi.has("requests", route.op):
            spec = self.openapi.document["requests"][route.op]
            if ctx.body is not None or spec.get("required"):
                problems = self.openapi.errors("requests", route.op, ctx.body)
                if problems:
                    return error(422, "Invalid request.\n\n" + "\n".join(problems[:5]), doc=API_DOCS)
        reply = await route.handler(ctx)
        if (
            self.check_responses
            and route.op is not None
            and 200 <= reply.status < 300
            and reply.raw is None
            and not ctx.media("object")
            and self.openapi.has("responses", route.op)
        ):
            problems = self.openapi.errors("responses", route.op, reply.body)
            if problems:
                message = f"{route.method} {route.template}: {problems[0]}"
                self.schema_errors.append(message)
                return error(500, "fake GitHub answered outside the OpenAPI description: " + message)
        return reply

    # ------------------------------------------------------------------ auth

    @staticmethod
    def _credentials(request: web.Request) -> tuple[str, str] | None:
        header = request.headers.get("Authorization", "")
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
            return None
        return parts[0].lower(), parts[1].strip()

    def _check_jwt(self, request: web.Request) -> Reply | None:
        creds = self._credentials(request)
        if creds is None:
            return error(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                creds[1],
                self.app.public_pem,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.InvalidTokenError:
            return error(401, "A JSON web token could not be decoded")
        now = time.time()
        iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
        if not isinstance(iat, int) or iat > now:
            return error(401, "'Issued at' claim ('iat') must be an Integer representing a time in the past")
        if not isinstance(exp, int) or exp <= now:
            return error(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
                "the assertion expires",
            )
        if exp - iat > 600 or exp > now + 600:
            return error(401, "'Expiration time' claim ('exp') is too far in the future")
        if str(iss) not in (str(self.app.app_id), self.app.client_id):
            return error(
                401, "'Issuer' claim ('iss') must be an Integer" if not str(iss).isdigit() else "Integration not found"
            )
        return None

    def _check_token(self, request: web.Request) -> Token | Reply:
        creds = self._credentials(request)
        if creds is None:
            return error(401, "Requires authentication")
        token = self.tokens.get(creds[1])
        if token is None or not token.valid():
            return error(401, "Bad credentials")
        inst = self.installations.get(token.installation_id)
        if inst is None:
            return error(401, "Bad credentials")
        if inst.suspended:
            return error(403, "This installation has been suspended")
        return token

    def _can_access(self, token: Token, repo: FakeRepo) -> bool:
        inst = self.installations[token.installation_id]
        return repo.full_name in inst.repos and (token.repos is None or repo.full_name in token.repos)

    def _access(self, token: Token, repo: FakeRepo | None, *, write: bool) -> Reply | None:
        if repo is None:
            return not_found()
        if self._can_access(token, repo):
            return None
        if repo.private:
            return not_found()
        return error(403, "Resource not accessible by integration") if write else None

    # ------------------------------------------------------------------ git access

    def _resolve(self, repo: FakeRepo, ref: str) -> str | None:
        """The commit SHA REF names in REPO (branch, tag, SHA), or None."""
        if not ref or ref.startswith("-") or "\0" in ref:
            return None
        try:
            return repo.git.head(ref)
        except GitError:
            return None

    async def _diff(self, repo: FakeRepo, base: str, head: str) -> list[DiffFile]:
        key = (repo.full_name, base, head, self.max_patch_chars)
        if key not in self._diff_cache:
            limit = self.max_patch_chars
            self._diff_cache[key] = await asyncio.to_thread(diff_files, repo.git, base, head, max_patch_chars=limit)
        return self._diff_cache[key]

    async def _pull_diff(self, repo: FakeRepo, pr: PullRequest, commit: str | None = None) -> list[DiffFile]:
        head = commit or pr.head_sha
        base = await asyncio.to_thread(repo.git.merge_base, pr.base_sha, head)
        return await self._diff(repo, base, head)

    def _commit_info(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        key = (repo.full_name, sha)
        if key not in self._commit_cache:
            fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
            parts = repo.git.git("show", "-s", f"--format={fmt}", sha).split("\0")
            self._commit_cache[key] = {
                "sha": parts[0],
                "tree": parts[1],
                "parents": parts[2].split(),
                "author": {"name": parts[3], "email": parts[4], "date": iso(cast(float, _parse_time(parts[5])))},
                "committer": {"name": parts[6], "email": parts[7], "date": iso(cast(float, _parse_time(parts[8])))},
                "message": parts[9].rstrip("\n"),
            }
        return self._commit_cache[key]

    def _outdated(self, comment: ReviewComment) -> bool:
        """Whether the commented file changed since the comment's commit (GitHub then nulls `line`)."""
        pr = self.pulls.get((comment.repo, comment.pull_number))
        if pr is None or comment.commit_id == pr.head_sha:
            return False
        key = (comment.repo, comment.commit_id, pr.head_sha, comment.path)
        if key not in self._outdated_cache:
            git = self.repo(comment.repo).git
            try:
                changed = git.git(
                    "--literal-pathspecs", "diff", "--name-only", comment.commit_id, pr.head_sha, "--", comment.path
                )
                self._outdated_cache[key] = bool(changed.strip())
            except GitError:
                self._outdated_cache[key] = True
        return self._outdated_cache[key]

    # ------------------------------------------------------------------ JSON shapes

    def _owner_id(self, login: str) -> int:
        return self._owner_ids.setdefault(login.lower(), 9000 + len(self._owner_ids))

    def _user(self, api: str, login: str, id_: int | None = None, type_: str = "User") -> dict[str, Any]:
        uid = id_ if id_ is not None else self._owner_id(login)
        url = f"{api}/users/{quote(login)}"
        return {
            "login": login,
            "id": uid,
            "node_id": node_id("U", uid),
            "avatar_url": f"{HTML_ROOT}/avatars/{quote(login)}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{HTML_ROOT}/{quote(login)}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": type_,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _bot(self, api: str) -> dict[str, Any]:
        return self._user(api, self.app.bot_login, self.app.bot_id, "Bot")

    def _repo_json(self, api: str, repo: FakeRepo, *, full: bool = False) -> dict[str, Any]:
        url = f"{api}/repos/{repo.full_name}"
        out: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self._user(api, repo.owner),
            "html_url": f"{HTML_ROOT}/{repo.full_name}",
            "description": None,
            "fork": repo.fork_of is not None,
            "url": url,
        }
        out.update({k: url + suffix for k, suffix in REPO_URL_SUFFIXES.items()})
        out.update(
            {
                "git_url": f"git://github.invalid/{repo.full_name}.git",
                "ssh_url": f"git@github.invalid:{repo.full_name}.git",
                "clone_url": f"{HTML_ROOT}/{repo.full_name}.git",
                "svn_url": f"{HTML_ROOT}/{repo.full_name}",
                "mirror_url": None,
                "homepage": None,
                "language": None,
                "size": 0,
                "forks": 0,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers": 0,
                "watchers_count": 0,
                "open_issues": 0,
                "open_issues_count": 0,
                "default_branch": repo.default_branch,
                "has_issues": True,
                "has_projects": True,
                "has_wiki": True,
                "has_pages": False,
                "has_downloads": True,
                "has_discussions": False,
                "archived": False,
                "disabled": False,
                "visibility": "private" if repo.private else "public",
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "pushed_at": iso(repo.created_at),
                "created_at": iso(repo.created_at),
                "updated_at": iso(repo.created_at),
            }
        )
        if full:
            out.update({"network_count": 0, "subscribers_count": 0})
            if repo.fork_of is not None and self._find_repo(repo.fork_of) is not None:
                parent = self._repo_json(api, self.repo(repo.fork_of))
                out.update({"parent": parent, "source": parent})
        return out

    def _integration(self, api: str) -> dict[str, Any]:
        return {
            "id": self.app.app_id,
            "slug": self.app.slug,
            "node_id": node_id("A", self.app.app_id),
            "client_id": self.app.client_id,
            "owner": self._user(api, self.app.owner, type_="Organization"),
            "name": self.app.name,
            "description": "Keeps containers from running as root",
            "external_url": f"{HTML_ROOT}/apps/{self.app.slug}",
            "html_url": f"{HTML_ROOT}/apps/{self.app.slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": dict(DEFAULT_PERMISSIONS),
            "events": list(APP_EVENTS),
        }

    def _installation_json(self, api: str, inst: Installation) -> dict[str, Any]:
        account = self._user(api, inst.account, type_="Organization")
        return {
            "id": inst.id,
            "account": account,
            "repository_selection": "selected",
            "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{api}/installation/repositories",
            "html_url": f"{HTML_ROOT}/organizations/{inst.account}/settings/installations/{inst.id}",
            "app_id": self.app.app_id,
            "app_slug": self.app.slug,
            "target_id": account["id"],
            "target_type": "Organization",
            "permissions": dict(DEFAULT_PERMISSIONS),
            "events": list(APP_EVENTS),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def _commit_json(self, api: str, repo: FakeRepo, sha: str) -> dict[str, Any]:
        info = self._commit_info(repo, sha)
        url = f"{api}/repos/{repo.full_name}/commits/{sha}"
        return {
            "sha": sha,
            "node_id": node_id("C", int(sha[:8], 16)),
            "url": url,
            "html_url": f"{HTML_ROOT}/{repo.full_name}/commit/{sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{api}/repos/{repo.full_name}/git/commits/{sha}",
                "author": info["author"],
                "committer": info["committer"],
                "message": info["message"],
                "comment_count": 0,
                "tree": {"sha": info["tree"], "url": f"{api}/repos/{repo.full_name}/git/trees/{info['tree']}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": None,
            "committer": None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/repos/{repo.full_name}/commits/{p}",
                    "html_url": f"{HTML_ROOT}/{repo.full_name}/commit/{p}",
                }
                for p in info["parents"]
            ],
        }

    def _file_json(self, api: str, repo: FakeRepo, ref: str, f: DiffFile) -> dict[str, Any]:
        path = quote(f.filename)
        out: dict[str, Any] = {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"{HTML_ROOT}/{repo.full_name}/blob/{ref}/{path}",
            "raw_url": f"{HTML_ROOT}/{repo.full_name}/raw/{ref}/{path}",
            "contents_url": f"{api}/repos/{repo.full_name}/contents/{path}?ref={ref}",
        }
        if f.patch is not None:
            out["patch"] = f.patch
        if f.previous_filename is not None:
            out["previous_filename"] = f.previous_filename
        return out

    def _pull_json(self, api: str, pr: PullRequest, files: Sequence[DiffFile], commits: int) -> dict[str, Any]:
        repo = self.repo(pr.repo)
        head_repo = self.repo(pr.head_repo)
        url = f"{api}/repos/{repo.full_name}/pulls/{pr.number}"
        issue = f"{api}/repos/{repo.full_name}/issues/{pr.number}"
        html = f"{HTML_ROOT}/{repo.full_name}/pull/{pr.number}"
        statuses = f"{api}/repos/{repo.full_name}/statuses/{pr.head_sha}"
        n_comments = sum(
            1
            for c in self.review_comments.values()
            if c.repo == pr.repo and c.pull_number == pr.number and self.reviews[c.review_id].state != "PENDING"
        )

        def side(ref: str, sha: str, r: FakeRepo) -> dict[str, Any]:
            return {
                "label": f"{r.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self._user(api, r.owner),
                "repo": self._repo_json(api, r),
            }

        return {
            "url": url,
            "id": pr.id,
            "node_id": node_id("PR", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": statuses,
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self._user(api, pr.author),
            "body": pr.body or None,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(pr.created_at),
            "updated_at": iso(pr.updated_at),
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": side(pr.head_ref, pr.head_sha, head_repo),
            "base": side(pr.base_ref, pr.base_sha, repo),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue},
                "comments": {"href": f"{issue}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/repos/{repo.full_name}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": "CONTRIBUTOR" if pr.is_fork else "MEMBER",
            "auto_merge": None,
            "draft": pr.draft,
            "merged": False,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": 0,
            "review_comments": n_comments,
            "maintainer_can_modify": False,
            "commits": commits,
            "additions": sum(f.additions for f in files),
            "deletions": sum(f.deletions for f in files),
            "changed_files": len(files),
        }

    def _pull_minimal(self, api: str, pr: PullRequest) -> dict[str, Any]:
        def side(ref: str, sha: str, r: FakeRepo) -> dict[str, Any]:
            return {"ref": ref, "sha": sha, "repo": {"id": r.id, "url": f"{api}/repos/{r.full_name}", "name": r.name}}

        return {
            "id": pr.id,
            "number": pr.number,
            "url": f"{api}/repos/{pr.repo}/pulls/{pr.number}",
            "head": side(pr.head_ref, pr.head_sha, self.repo(pr.head_repo)),
            "base": side(pr.base_ref, pr.base_sha, self.repo(pr.repo)),
        }

    def _check_run_json(self, api: str, run: CheckRun) -> dict[str, Any]:
        url = f"{api}/repos/{run.repo}/check-runs/{run.id}"
        prs = [
            self._pull_minimal(api, pr)
            for pr in self.pulls.values()
            if pr.repo == run.repo and pr.head_sha == run.head_sha and pr.state == "open" and not pr.is_fork
        ]
        return {
            "id": run.id,
            "node_id": node_id("CR", run.id),
            "head_sha": run.head_sha,
            "external_id": run.external_id or "",
            "url": url,
            "html_url": f"{HTML_ROOT}/{run.repo}/runs/{run.id}",
            "details_url": run.details_url or f"{HTML_ROOT}/apps/{self.app.slug}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at) if run.started_at is not None else None,
            "completed_at": iso(run.completed_at) if run.completed_at is not None else None,
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": 7000 + run.id},
            "app": self._integration(api),
            "pull_requests": prs,
        }

    def _annotation_json(self, api: str, run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": a["path"],
            "start_line": a["start_line"],
            "end_line": a["end_line"],
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a.get("annotation_level"),
            "title": a.get("title"),
            "message": a.get("message"),
            "raw_details": a.get("raw_details"),
            "blob_href": f"{HTML_ROOT}/{run.repo}/blob/{run.head_sha}/{quote(a['path'])}",
        }

    def _review_json(self, api: str, review: Review) -> dict[str, Any]:
        html = f"{HTML_ROOT}/{review.repo}/pull/{review.pull_number}#pullrequestreview-{review.id}"
        pull_url = f"{api}/repos/{review.repo}/pulls/{review.pull_number}"
        out: dict[str, Any] = {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self._bot(api),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "commit_id": review.commit_id,
            "author_association": "NONE",
        }
        if review.submitted_at is not None:
            out["submitted_at"] = iso(review.submitted_at)
        return out

    def _comment_json(self, api: str, c: ReviewComment) -> dict[str, Any]:
        url = f"{api}/repos/{c.repo}/pulls/comments/{c.id}"
        html = f"{HTML_ROOT}/{c.repo}/pull/{c.pull_number}#discussion_r{c.id}"
        pull_url = f"{api}/repos/{c.repo}/pulls/{c.pull_number}"
        outdated = self._outdated(c)
        return {
            "url": url,
            "pull_request_review_id": c.review_id,
            "id": c.id,
            "node_id": c.node_id,
            "diff_hunk": c.diff_hunk,
            "path": c.path,
            "position": None if outdated else c.position,
            "original_position": c.position,
            "commit_id": c.commit_id,
            "original_commit_id": c.commit_id,
            "user": self._bot(api),
            "body": c.body,
            "created_at": iso(c.created_at),
            "updated_at": iso(c.created_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": "NONE",
            "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
            "start_line": None if outdated else c.start_line,
            "original_start_line": c.start_line,
            "start_side": c.start_side if c.start_line is not None else None,
            "line": None if outdated else c.line,
            "original_line": c.line,
            "side": c.side,
            "subject_type": "line",
        }

    def _page(self, ctx: Ctx, items: Sequence[Any], default: int = 30) -> tuple[list[Any], dict[str, str]]:
        """Slice ITEMS by per_page/page (max 100) and build GitHub's Link header from the request URL."""
        per_page = min(100, max(1, _int(ctx.query.get("per_page"), default)))
        page = max(1, _int(ctx.query.get("page"), 1))
        last = max(1, -(-len(items) // per_page))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        url = ctx.request.url

        def link(n: int, rel: str) -> str:
            return f'<{url.update_query(page=str(n))}>; rel="{rel}"'

        links: list[str] = []
        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        return chunk, ({"Link": ", ".join(links)} if links else {})

    # ------------------------------------------------------------------ REST handlers

    async def _get_app(self, ctx: Ctx) -> Reply:
        return Reply(200, self._integration(ctx.api))

    async def _get_installation(self, ctx: Ctx) -> Reply:
        inst = self.installations.get(_int(ctx.params["installation_id"], -1))
        return Reply(200, self._installation_json(ctx.api, inst)) if inst else not_found()

    async def _get_repo_installation(self, ctx: Ctx) -> Reply:
        repo = self._find_repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        if repo is None:
            return not_found()
        inst = next((i for i in self.installations.values() if repo.full_name in i.repos), None)
        return Reply(200, self._installation_json(ctx.api, inst)) if inst else not_found()

    async def _create_token(self, ctx: Ctx) -> Reply:
        inst = self.installations.get(_int(ctx.params["installation_id"], -1))
        if inst is None:
            return not_found()
        if inst.suspended:
            return error(403, "This installation has been suspended")
        body = ctx.body if isinstance(ctx.body, dict) else {}
        wanted: set[str] | None = None
        if body.get("repositories") or body.get("repository_ids"):
            by_name = {self.repo(n).name: n for n in inst.repos}
            by_id = {self.repo(n).id: n for n in inst.repos}
            names = [by_name.get(n) for n in body.get("repositories", [])]
            names += [by_id.get(i) for i in body.get("repository_ids", [])]
            if any(n is None for n in names):
                return error(
                    422,
                    "There is at least one repository that does not exist or is not accessible to the parent "
                    "installation.",
                )
            wanted = {cast(str, n) for n in names}
        value = self.issue_token(inst.id, repos=wanted)
        token = self.tokens[value]
        if isinstance(body.get("permissions"), dict):
            token.permissions = dict(body["permissions"])
        reply: dict[str, Any] = {
            "token": value,
            "expires_at": iso(token.expires_at),
            "permissions": token.permissions,
            "repository_selection": "selected",
        }
        if wanted is not None:
            reply["repositories"] = [self._repo_json(ctx.api, self.repo(n)) for n in sorted(wanted)]
        return Reply(201, reply)

    async def _get_repo(self, ctx: Ctx) -> Reply:
        return Reply(200, self._repo_json(ctx.api, cast(FakeRepo, ctx.repo), full=True))

    def _ctx_pull(self, ctx: Ctx) -> PullRequest | None:
        repo = cast(FakeRepo, ctx.repo)
        return self.pulls.get((repo.full_name, _int(ctx.params["pull_number"], -1)))

    async def _get_pull(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        pr = self._ctx_pull(ctx)
        if pr is None:
            return not_found()
        files = await self._pull_diff(repo, pr)
        base = await asyncio.to_thread(repo.git.merge_base, pr.base_sha, pr.head_sha)
        commits = int(repo.git.git("rev-list", "--count", f"{base}..{pr.head_sha}").strip())
        return Reply(200, self._pull_json(ctx.api, pr, files, commits))

    async def _list_files(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        pr = self._ctx_pull(ctx)
        if pr is None:
            return not_found()
        files = (await self._pull_diff(repo, pr))[:MAX_PR_FILES]
        chunk, headers = self._page(ctx, files)
        return Reply(200, [self._file_json(ctx.api, repo, pr.head_sha, f) for f in chunk], headers)

    def _compare_ref(self, repo: FakeRepo, spec: str) -> str | None:
        """A compare endpoint side: "ref", "sha" or "owner:ref" (a branch of a fork in the network)."""
        if ":" in spec:
            owner, ref = spec.split(":", 1)
            if owner.lower() != repo.owner.lower():
                other = next(
                    (
                        r
                        for r in self.repos.values()
                        if r.owner.lower() == owner.lower()
                        and (r.fork_of == repo.full_name or repo.fork_of == r.full_name or r.fork_of == repo.fork_of)
                    ),
                    None,
                )
                if other is None:
                    return None
                try:
                    repo.git.fetch(other.git, f"+refs/heads/{ref}:refs/fake-network/{owner}/{ref}")
                except GitError:
                    return None
                return self._resolve(repo, f"refs/fake-network/{owner}/{ref}")
            spec = ref
        return self._resolve(repo, spec)

    async def _compare(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        basehead = ctx.params["basehead"]
        three = "..." in basehead
        if not three and ".." not in basehead:
            return not_found()
        base_spec, head_spec = basehead.split("..." if three else "..", 1)
        base = self._compare_ref(repo, base_spec)
        head = self._compare_ref(repo, head_spec)
        if base is None or head is None:
            return not_found()
        try:
            merge_base = await asyncio.to_thread(repo.git.merge_base, base, head)
        except GitError:
            return error(404, f"No common ancestor between {base_spec} and {head_spec}.")
        files = (await self._diff(repo, merge_base if three else base, head))[:MAX_COMPARE_FILES]
        ahead = repo.git.git("rev-list", "--reverse", f"{base}..{head}").split()
        behind = int(repo.git.git("rev-list", "--count", f"{head}..{base}").strip())
        paged = "page" in ctx.query or "per_page" in ctx.query
        headers: dict[str, str] = {}
        if paged:
            commits, headers = self._page(ctx, ahead)
            page = max(1, _int(ctx.query.get("page"), 1))
        else:
            commits, page = ahead[-MAX_COMPARE_COMMITS:], 1
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        url = f"{ctx.api}/repos/{repo.full_name}/compare/{basehead}"
        html = f"{HTML_ROOT}/{repo.full_name}/compare/{basehead}"
        body: dict[str, Any] = {
            "url": url,
            "html_url": html,
            "permalink_url": f"{HTML_ROOT}/{repo.full_name}/compare/{base}...{head}",
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": self._commit_json(ctx.api, repo, base),
            "merge_base_commit": self._commit_json(ctx.api, repo, merge_base),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": behind,
            "total_commits": len(ahead),
            "commits": [self._commit_json(ctx.api, repo, sha) for sha in commits],
        }
        if page == 1:
            body["files"] = [self._file_json(ctx.api, repo, head, f) for f in files]
        return Reply(200, body, headers)

    def _tree_entry(self, repo: FakeRepo, sha: str, path: str) -> tuple[str, str, str, int] | None:
        """(mode, type, object sha, size) of PATH at commit SHA."""
        out = repo.git.git_bytes("--literal-pathspecs", "ls-tree", "-z", "--long", sha, "--", path)
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, name = record.split(b"\t", 1)
            if name.decode() != path:
                continue
            mode, kind, obj, size = meta.decode().split()
            return mode, kind, obj, int(size) if size.isdigit() else 0
        return None

    def _content_links(self, api: str, repo: FakeRepo, path: str, ref: str, kind: str, sha: str) -> dict[str, Any]:
        url = f"{api}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
        git_url = f"{api}/repos/{repo.full_name}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
        html = f"{HTML_ROOT}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
        return {
            "url": url,
            "git_url": git_url,
            "html_url": html,
            "download_url": None if kind == "dir" else f"{HTML_ROOT}/raw/{repo.full_name}/{ref}/{quote(path)}",
            "_links": {"self": url, "git": git_url, "html": html},
        }

    async def _get_contents(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        path = ctx.params.get("path", "").strip("/")
        ref = ctx.query.get("ref") or repo.default_branch
        sha = self._resolve(repo, ref)
        if sha is None:
            return error(404, f"No commit found for the ref {ref}")
        if path == "":
            return await self._list_dir(ctx, repo, sha, ref, "")
        entry = await asyncio.to_thread(self._tree_entry, repo, sha, path)
        if entry is None:
            return not_found()
        mode, kind, obj, size = entry
        if kind == "tree":
            return await self._list_dir(ctx, repo, sha, ref, path)
        if kind == "commit":
            return Reply(
                200,
                {
                    "type": "submodule",
                    "submodule_git_url": "",
                    "size": 0,
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "sha": obj,
                    **self._content_links(ctx.api, repo, path, ref, "submodule", obj),
                },
            )
        if mode == "120000":
            target = repo.git.git_bytes("cat-file", "blob", obj).decode("utf-8", errors="replace")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            followed = None
            if not target.startswith("/") and not resolved.startswith("../") and resolved != "..":
                followed = await asyncio.to_thread(self._tree_entry, repo, sha, resolved)
            if followed is not None and followed[1] == "blob" and followed[0] in ("100644", "100755"):
                path, (mode, kind, obj, size) = resolved, followed
            else:
                return Reply(
                    200,
                    {
                        "type": "symlink",
                        "target": target,
                        "size": size,
                        "name": path.rsplit("/", 1)[-1],
                        "path": path,
                        "sha": obj,
                        **self._content_links(ctx.api, repo, path, ref, "symlink", obj),
                    },
                )
        if ctx.media("raw"):
            data = await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", obj)
            return Reply(200, raw=data, content_type="application/vnd.github.raw")
        if size > CONTENTS_LIMIT and (self.contents_too_large_403 and not ctx.media("object")):
            return error(
                403,
                "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, "
                "but you can use the Git Data API to request blobs up to 100 MB in size.",
                errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
            )
        if size > BLOB_LIMIT:
            return error(403, "This API returns blobs up to 100 MB in size.", errors=[{"code": "too_large"}])
        if size > CONTENTS_LIMIT:
            content, encoding = "", "none"
        else:
            content = b64(await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", obj))
            encoding = "base64"
        return Reply(
            200,
            {
                "type": "file",
                "encoding": encoding,
                "size": size,
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": content,
                "sha": obj,
                **self._content_links(ctx.api, repo, path, ref, "file", obj),
            },
        )

    async def _list_dir(self, ctx: Ctx, repo: FakeRepo, sha: str, ref: str, path: str) -> Reply:
        spec = f"{sha}:{path}" if path else sha
        out = await asyncio.to_thread(repo.git.git_bytes, "ls-tree", "-z", "--long", spec)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, name = record.split(b"\t", 1)
            mode, kind, obj, size = meta.decode().split()
            full = f"{path}/{name.decode()}" if path else name.decode()
            type_ = "dir" if kind == "tree" else "symlink" if mode == "120000" else "file"
            entries.append(
                {
                    "type": type_,
                    "size": int(size) if size.isdigit() else 0,
                    "name": name.decode(),
                    "path": full,
                    "sha": obj,
                    **self._content_links(ctx.api, repo, full, ref, type_, obj),
                }
            )
        return Reply(200, entries[:1000])

    async def _get_blob(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        sha = ctx.params["file_sha"]
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            return not_found()
        try:
            kind = repo.git.git("cat-file", "-t", sha).strip()
        except GitError:
            return not_found()
        if kind != "blob":
            return not_found()
        data = await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", sha)
        if len(data) > BLOB_LIMIT:
            return error(403, "This API returns blobs up to 100 MB in size.", errors=[{"code": "too_large"}])
        if ctx.media("raw"):
            return Reply(200, raw=data, content_type="application/vnd.github.raw")
        return Reply(
            200,
            {
                "sha": sha,
                "node_id": node_id("B", int(sha[:8], 16)),
                "size": len(data),
                "url": f"{ctx.api}/repos/{repo.full_name}/git/blobs/{sha}",
                "content": b64(data),
                "encoding": "base64",
            },
        )

    # ------------------------------------------------------------------ check runs

    @staticmethod
    def _check_run_problem(body: dict[str, Any], existing: CheckRun | None) -> Reply | None:
        """GitHub's rules beyond the schema (and the schema's limits again, should the subset change)."""
        output = body.get("output") or {}
        annotations = output.get("annotations") or []
        problems: list[str] = []
        if len(annotations) > 50:
            problems.append("Only 50 annotations can be sent per request")
        for key in ("summary", "text"):
            if len(output.get(key) or "") > 65535:
                problems.append(f"output.{key} is too long (maximum is 65535 characters)")
        actions = body.get("actions") or []
        if len(actions) > 3:
            problems.append("Only 3 actions are allowed")
        for action in actions:
            for key, limit in (("label", 20), ("description", 40), ("identifier", 20)):
                if len(str(action.get(key, ""))) > limit:
                    problems.append(f"actions.{key} is too long (maximum is {limit} characters)")
        for a in annotations:
            start, end = a.get("start_line"), a.get("end_line")
            if isinstance(start, int) and isinstance(end, int):
                if start < 1 or end < start:
                    problems.append("annotation start_line must be >= 1 and <= end_line")
                if start != end and ("start_column" in a or "end_column" in a):
                    problems.append("annotation start_column/end_column are only allowed when start_line == end_line")
            if len(str(a.get("title") or "")) > 255:
                problems.append("annotation title is too long (maximum is 255 characters)")
            for key in ("message", "raw_details"):
                if len(str(a.get(key) or "").encode()) > 64 * 1024:
                    problems.append(f"annotation {key} is too long (maximum is 64 KB)")
        conclusion = body.get("conclusion") or (existing.conclusion if existing else None)
        if (body.get("status") == "completed" or body.get("completed_at")) and not conclusion:
            problems.append('No subschema in "anyOf" matched: "conclusion" is required when "status" is "completed"')
        if problems:
            return error(422, "Invalid request.\n\n" + "\n".join(dict.fromkeys(problems)))
        return None

    async def _create_check_run(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        body = cast(dict[str, Any], ctx.body)
        head_sha = body["head_sha"]
        if not re.fullmatch(r"[0-9a-f]{40}", head_sha) or self._resolve(repo, head_sha) != head_sha:
            return error(422, f"No commit found for SHA: {head_sha}")
        problem = self._check_run_problem(body, None)
        if problem is not None:
            return problem
        now = time.time()
        output = body.get("output") or {}
        conclusion = body.get("conclusion")
        status = "completed" if conclusion else body.get("status", "queued")
        run = CheckRun(
            id=self._next_id(),
            repo=repo.full_name,
            name=body["name"],
            head_sha=head_sha,
            status=status,
            conclusion=conclusion,
            started_at=_parse_time(body.get("started_at")) or now,
            completed_at=(_parse_time(body.get("completed_at")) or now) if status == "completed" else None,
            output={k: output[k] for k in ("title", "summary", "text", "images") if k in output},
            annotations=list(output.get("annotations") or []),
            actions=list(body.get("actions") or []),
            details_url=body.get("details_url"),
            external_id=body.get("external_id"),
            created_at=now,
            bodies=[body],
        )
        self.check_runs[run.id] = run
        return Reply(201, self._check_run_json(ctx.api, run))

    def _ctx_run(self, ctx: Ctx) -> CheckRun | None:
        run = self.check_runs.get(_int(ctx.params["check_run_id"], -1))
        return run if run is not None and run.repo == cast(FakeRepo, ctx.repo).full_name else None

    async def _get_check_run(self, ctx: Ctx) -> Reply:
        run = self._ctx_run(ctx)
        return Reply(200, self._check_run_json(ctx.api, run)) if run else not_found()

    async def _update_check_run(self, ctx: Ctx) -> Reply:
        run = self._ctx_run(ctx)
        if run is None:
            return not_found()
        body = cast(dict[str, Any], ctx.body)
        problem = self._check_run_problem(body, run)
        if problem is not None:
            return problem
        now = time.time()
        for key in ("name", "details_url", "external_id"):
            if key in body:
                setattr(run, key, body[key])
        if "started_at" in body:
            run.started_at = _parse_time(body["started_at"])
        if body.get("conclusion"):
            run.conclusion, run.status = body["conclusion"], "completed"
        elif "status" in body:
            run.status = body["status"]
            if run.status != "completed":  # re-opened (e.g. a re-run): the old result goes
                run.conclusion, run.completed_at = None, None
        if run.status == "completed" and (run.completed_at is None or "completed_at" in body or "conclusion" in body):
            run.completed_at = _parse_time(body.get("completed_at")) or now
        output = body.get("output") or {}
        for key in ("title", "summary", "text"):
            if key in output:
                run.output[key] = output[key]
        run.output["images"] = [*run.output.get("images", []), *(output.get("images") or [])]
        run.annotations.extend(output.get("annotations") or [])
        if "actions" in body:
            run.actions = list(body["actions"] or [])
        run.bodies.append(body)
        return Reply(200, self._check_run_json(ctx.api, run))

    async def _list_annotations(self, ctx: Ctx) -> Reply:
        run = self._ctx_run(ctx)
        if run is None:
            return not_found()
        chunk, headers = self._page(ctx, run.annotations)
        return Reply(200, [self._annotation_json(ctx.api, run, a) for a in chunk], headers)

    async def _list_check_runs(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        sha = self._resolve(repo, ctx.params["ref"])
        if sha is None:
            return error(422, f"No commit found for SHA: {ctx.params['ref']}")
        runs = [r for r in self.check_runs.values() if r.repo == repo.full_name and r.head_sha == sha]
        if "check_name" in ctx.query:
            runs = [r for r in runs if r.name == ctx.query["check_name"]]
        if "status" in ctx.query:
            runs = [r for r in runs if r.status == ctx.query["status"]]
        if "app_id" in ctx.query and _int(ctx.query["app_id"], -1) != self.app.app_id:
            runs = []
        if ctx.query.get("filter", "latest") == "latest":
            newest: dict[str, CheckRun] = {}
            for r in runs:
                if r.name not in newest or r.id > newest[r.name].id:
                    newest[r.name] = r
            runs = list(newest.values())
        runs.sort(key=lambda r: r.id, reverse=True)
        chunk, headers = self._page(ctx, runs)
        return Reply(
            200, {"total_count": len(runs), "check_runs": [self._check_run_json(ctx.api, r) for r in chunk]}, headers
        )

    # ------------------------------------------------------------------ reviews

    async def _create_review(self, ctx: Ctx) -> Reply:
        repo = cast(FakeRepo, ctx.repo)
        pr = self._ctx_pull(ctx)
        if pr is None:
            return not_found()
        body = ctx.body if isinstance(ctx.body, dict) else {}

        def unprocessable(messages: Iterable[str]) -> Reply:
            return error(
                422, "Unprocessable Entity", errors=[to_sentence(list(dict.fromkeys(messages)))], doc=REVIEW_DOC
            )

        bot = self.app.bot_login
        if any(r.state == "PENDING" and r.user == bot for r in self.reviews_for(pr.repo, pr.number)):
            return unprocessable(["User can only have one pending review per pull request"])
        commit_id = body.get("commit_id") or pr.head_sha
        resolved = self._resolve(repo, commit_id) if re.fullmatch(r"[0-9a-f]{7,40}", commit_id) else None
        if resolved is None or not resolved.startswith(commit_id):
            return unprocessable([f"No commit found for SHA: {commit_id}"])
        commit_id = resolved
        event = body.get("event")
        states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
        state = states.get(event or "", "PENDING")
        text = body.get("body") or ""
        comments = body.get("comments") or []
        messages: list[str] = []
        if len(text) > MAX_BODY:
            messages.append(f"Body is too long (maximum is {MAX_BODY} characters)")
        if (event == "REQUEST_CHANGES" and not text) or (event == "COMMENT" and not text and not comments):
            messages.append("Body can't be blank")  # "Required when using REQUEST_CHANGES or COMMENT"
        files = {f.filename: f for f in await self._pull_diff(repo, pr, commit_id)}
        prepared: list[dict[str, Any]] = []
        line_off = [
            "Pull request review thread line must be part of the diff",
            "Pull request review thread diff hunk can't be blank",
        ]
        for c in comments:
            f = files.get(c["path"])
            if f is None:
                messages.append("Path could not be resolved")
                continue
            if len(c["body"]) > MAX_BODY:
                messages.append(f"Body is too long (maximum is {MAX_BODY} characters)")
            hunks = f.hunks()
            side = c.get("side") or "RIGHT"
            line = c.get("line")
            if side not in ("LEFT", "RIGHT"):
                messages.append("Pull request review thread side is invalid (expected LEFT or RIGHT)")
                continue
            if line is None and c.get("position") is not None:
                at = next(
                    (ln for h in hunks for ln in h.lines if ln.position == c["position"] and ln.kind != "\\"), None
                )
                if at is None:
                    messages.append("Pull request review thread position is invalid")
                    continue
                side, line = ("LEFT", at.old) if at.kind == "-" else ("RIGHT", at.new)
            hunk = next((h for h in hunks if line in h.side_lines(side)), None)
            if line is None or hunk is None:
                messages.extend(line_off)
                continue
            end = cast(DiffLine, hunk.line_at(side, line))
            start_line = c.get("start_line")
            start_side = c.get("start_side")
            if start_line is not None:
                if start_side is None and self.require_start_side:
                    messages.append(
                        "Pull request review thread start side can't be blank (multi-line comments need start_side)"
                    )
                    continue
                start_side = start_side or side
                start = hunk.line_at(start_side, start_line)
                if (start is not None and start.position >= end.position) or (
                    start is None and start_side == side and start_line >= line
                ):
                    messages.append("Pull request review thread start line must precede the end line.")
                    continue
                if start is None:
                    messages.append("Pull request review thread start line must be part of the same hunk as the line.")
                    continue
            diff_hunk = "\n".join([hunk.header] + [ln.text for ln in hunk.lines if ln.position <= end.position])
            prepared.append(
                {
                    "path": f.filename,
                    "line": line,
                    "side": side,
                    "start_line": start_line,
                    "start_side": start_side if start_line is not None else None,
                    "position": end.position,
                    "diff_hunk": diff_hunk,
                    "body": c["body"],
                }
            )
        if messages:
            return unprocessable(messages)
        now = time.time()
        review = Review(
            id=self._next_id(),
            repo=pr.repo,
            pull_number=pr.number,
            state=state,
            event=event,
            body=text,
            commit_id=commit_id,
            comment_ids=[],
            submitted_at=None if state == "PENDING" else now,
            user=bot,
        )
        self.reviews[review.id] = review
        for p in prepared:
            cid = self._next_id()
            thread_id = node_id("PRRT", cid)
            self.review_comments[cid] = ReviewComment(
                id=cid,
                node_id=node_id("PRRC", cid),
                repo=pr.repo,
                pull_number=pr.number,
                review_id=review.id,
                commit_id=commit_id,
                user=bot,
                created_at=now,
                thread_id=thread_id,
                **p,
            )
            review.comment_ids.append(cid)
            self.threads[thread_id] = ReviewThread(
                id=thread_id,
                repo=pr.repo,
                pull_number=pr.number,
                comment_ids=[cid],
                path=p["path"],
                line=p["line"],
                start_line=p["start_line"],
                side=p["side"],
                start_side=p["start_side"],
            )
        return Reply(200, self._review_json(ctx.api, review))

    async def _list_reviews(self, ctx: Ctx) -> Reply:
        pr = self._ctx_pull(ctx)
        if pr is None:
            return not_found()
        chunk, headers = self._page(ctx, self.reviews_for(pr.repo, pr.number))
        return Reply(200, [self._review_json(ctx.api, r) for r in chunk], headers)

    def _visible_comments(self, repo: str, number: int) -> list[ReviewComment]:
        return [c for c in self.comments_for(repo, number) if self.reviews[c.review_id].state != "PENDING"]

    async def _list_review_comments(self, ctx: Ctx) -> Reply:
        pr = self._ctx_pull(ctx)
        if pr is None:
            return not_found()
        chunk, headers = self._page(ctx, self._visible_comments(pr.repo, pr.number))
        return Reply(200, [self._comment_json(ctx.api, c) for c in chunk], headers)

    # ------------------------------------------------------------------ GraphQL

    async def _graphql(self, ctx: Ctx) -> Reply:
        body = ctx.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return Reply(200, {"errors": [{"message": "A query attribute must be specified and must be a string."}]})
        variables = body.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return Reply(200, {"errors": [{"message": "Variables are invalid JSON."}]})
        try:
            executor = GraphQLExecutor(body["query"], variables, body.get("operationName"))
            token = cast(Token, ctx.token)
            root = self._gql_mutation(token) if executor.root_type == "Mutation" else self._gql_query(token)
            result = await executor.execute(root)
        except GraphQLError as exc:
            err: dict[str, Any] = {"message": exc.message}
            if exc.path is not None:
                err["path"] = exc.path
            err.update(exc.extra)
            return Reply(200, {"errors": [err]})
        return Reply(200, result)

    def _gql_query(self, token: Token) -> dict[str, Any]:
        def repository(args: Mapping[str, Any]) -> dict[str, Any]:
            full = f"{args['owner']}/{args['name']}"
            repo = self._find_repo(full)
            if repo is None or (repo.private and not self._can_access(token, repo)):
                raise ResolveError(f"Could not resolve to a Repository with the name '{full}'.")
            return self._gql_repo(token, repo)

        def node(args: Mapping[str, Any]) -> dict[str, Any]:
            found = self._gql_node(token, str(args["id"]))
            if found is None:
                raise ResolveError(f"Could not resolve to a node with the global id of '{args['id']}'")
            return found

        return {"__typename": "Query", "repository": repository, "node": node, "viewer": self._gql_bot()}

    def _gql_node(self, token: Token, nid: str) -> dict[str, Any] | None:
        thread = self.threads.get(nid)
        if thread is not None and self._gql_visible(token, thread.repo):
            return self._gql_thread(token, thread)
        comment = next((c for c in self.review_comments.values() if c.node_id == nid), None)
        if comment is not None and self._gql_visible(token, comment.repo):
            return self._gql_comment(token, comment)
        review = next((r for r in self.reviews.values() if node_id("PRR", r.id) == nid), None)
        if review is not None and self._gql_visible(token, review.repo) and self._review_visible(review):
            return self._gql_review(token, review)
        return None

    def _gql_visible(self, token: Token, full: str) -> bool:
        repo = self._find_repo(full)
        return repo is not None and (not repo.private or self._can_access(token, repo))

    def _gql_bot(self) -> dict[str, Any]:
        return {
            "__typename": "Bot",
            "id": node_id("BOT", self.app.bot_id),
            "login": self.app.slug,  # GraphQL's Bot.login has no "[bot]" suffix, unlike REST's user.login
            "url": f"{HTML_ROOT}/apps/{self.app.slug}",
            "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{self.app.slug}",
        }

    def _gql_repo(self, token: Token, repo: FakeRepo) -> dict[str, Any]:
        def pull_request(args: Mapping[str, Any]) -> dict[str, Any]:
            pr = self.pulls.get((repo.full_name, args["number"]))
            if pr is None:
                raise ResolveError(f"Could not resolve to a PullRequest with the number of {args['number']}.")
            return self._gql_pull(token, pr)

        objects: dict[str, RawGitObject | None] = {}  # this Repository field's reads, by cat-file name

        def object_name(args: Mapping[str, Any]) -> str | None:
            expression, oid = args.get("expression"), args.get("oid")
            if expression is not None:
                return str(expression)
            if oid is not None:
                if not isinstance(oid, str) or not re.fullmatch(r"[0-9a-f]{40}", oid):
                    raise GraphQLError(
                        f"Argument 'oid' on Field 'object' has an invalid value ({json.dumps(oid)}). "
                        "Expected type 'GitObjectID'."
                    )
                return oid
            return None

        async def prefetch(fields: list[tuple[str, dict[str, Any]]]) -> None:
            names = sorted({n for name, args in fields if name == "object" and (n := object_name(args)) is not None})
            names = [n for n in names if n not in objects]
            if names:
                objects.update(zip(names, await asyncio.to_thread(read_git_objects, repo.git, names), strict=True))

        async def git_object(args: Mapping[str, Any]) -> dict[str, Any] | None:
            name = object_name(args)
            if name is None:
                return None
            if name not in objects:
                await prefetch([("object", dict(args))])
            raw = objects[name]
            if raw is None:
                return None
            path = name.partition(":")[2].strip("/") if args.get("expression") is not None else None
            return self._gql_git_object(token, repo, raw, path)

        return {
            "__typename": "Repository",
            "id": node_id("R", repo.id),
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "owner": {
                "__typename": "Organization",
                "id": node_id("O", self._owner_id(repo.owner)),
                "login": repo.owner,
            },
            "isPrivate": repo.private,
            "url": f"{HTML_ROOT}/{repo.full_name}",
            "pullRequest": pull_request,
            "object": git_object,
            "__prefetch__": prefetch,
        }

    def _gql_pull(self, token: Token, pr: PullRequest) -> dict[str, Any]:
        def review_threads(args: Mapping[str, Any]) -> Any:
            visible = [
                self._gql_thread(token, t)
                for t in self.threads_for(pr.repo, pr.number)
                if self.reviews[self.review_comments[t.comment_ids[0]].review_id].state != "PENDING"
            ]
            return connection(
                visible, args, "reviewThreads", "PullRequestReviewThreadEdge", "PullRequestReviewThreadConnection"
            )

        def reviews(args: Mapping[str, Any]) -> Any:
            states = args.get("states")
            if states is not None and not isinstance(states, list):
                states = [states]  # GraphQL input coercion: a single value is a list of one
            if states is not None and any(s not in REVIEW_STATES for s in states):
                raise GraphQLError(
                    f"Argument 'states' on Field 'reviews' has an invalid value ({json.dumps(states)}). "
                    "Expected type '[PullRequestReviewState!]'."
                )
            author = args.get("author")
            items = [
                self._gql_review(token, r)
                for r in self.reviews_for(pr.repo, pr.number)
                if self._review_visible(r)
                and (states is None or r.state in states)
                and (author is None or _same_login(str(author), r.user))
            ]
            return connection(items, args, "reviews", "PullRequestReviewEdge", "PullRequestReviewConnection")

        return {
            "__typename": "PullRequest",
            "id": node_id("PR", pr.id),
            "databaseId": pr.id,
            "number": pr.number,
            "title": pr.title,
            "state": pr.state.upper(),
            "isDraft": pr.draft,
            "url": f"{HTML_ROOT}/{pr.repo}/pull/{pr.number}",
            "headRefName": pr.head_ref,
            "headRefOid": pr.head_sha,
            "baseRefName": pr.base_ref,
            "baseRefOid": pr.base_sha,
            "reviewThreads": review_threads,
            "reviews": reviews,
        }

    def _gql_thread(self, token: Token, t: ReviewThread) -> dict[str, Any]:
        first = self.review_comments[t.comment_ids[0]]
        outdated = self._outdated(first)

        def comments(args: Mapping[str, Any]) -> Any:
            items = [self._gql_comment(token, self.review_comments[i]) for i in t.comment_ids]
            return connection(
                items, args, "comments", "PullRequestReviewCommentEdge", "PullRequestReviewCommentConnection"
            )

        return {
            "__typename": "PullRequestReviewThread",
            "id": t.id,
            "isResolved": t.is_resolved,
            "isOutdated": outdated,
            "isCollapsed": t.is_resolved,
            "path": t.path,
            "line": None if outdated else t.line,
            "originalLine": t.line,
            "startLine": None if outdated else t.start_line,
            "originalStartLine": t.start_line,
            "diffSide": t.side,
            "startDiffSide": t.start_side,
            "viewerCanResolve": not t.is_resolved,
            "viewerCanUnresolve": t.is_resolved,
            "resolvedBy": None,
            "pullRequest": lambda args: self._gql_pull(token, self.pulls[(t.repo, t.pull_number)]),
            "comments": comments,
        }

    def _review_visible(self, review: Review) -> bool:
        """Pending reviews show to their author only (the viewer is always the app's bot)."""
        return review.state != "PENDING" or review.user == self.app.bot_login

    def _gql_actor(self, login: str) -> dict[str, Any]:
        if login == self.app.bot_login:
            return self._gql_bot()
        return {
            "__typename": "User",
            "id": node_id("U", self._owner_id(login)),
            "login": login,
            "url": f"{HTML_ROOT}/{login}",
            "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{login}",
        }

    def _gql_review(self, token: Token, r: Review) -> dict[str, Any]:
        def comments(args: Mapping[str, Any]) -> Any:
            items = [self._gql_comment(token, self.review_comments[i]) for i in r.comment_ids]
            return connection(
                items, args, "comments", "PullRequestReviewCommentEdge", "PullRequestReviewCommentConnection"
            )

        return {
            "__typename": "PullRequestReview",
            "id": node_id("PRR", r.id),
            "databaseId": r.id,
            "fullDatabaseId": str(r.id),
            "body": r.body,
            "bodyText": r.body,
            "state": r.state,
            "author": self._gql_actor(r.user),
            "commit": self._gql_commit(token, self.repo(r.repo), r.commit_id),
            "submittedAt": None if r.submitted_at is None else iso(r.submitted_at),
            "createdAt": iso(r.created_at),
            "url": f"{HTML_ROOT}/{r.repo}/pull/{r.pull_number}#pullrequestreview-{r.id}",
            "viewerDidAuthor": r.user == self.app.bot_login,
            "pullRequest": lambda args: self._gql_pull(token, self.pulls[(r.repo, r.pull_number)]),
            "comments": comments,
        }

    def _gql_git_common(self, token: Token, repo: FakeRepo, typename: str, oid: str) -> dict[str, Any]:
        prefix = {"Blob": "B", "Tree": "T", "Commit": "C", "Tag": "TAG"}[typename]
        return {
            "__typename": typename,
            "id": node_id(prefix, int(oid[:8], 16)),
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "repository": lambda args: self._gql_repo(token, repo),
        }

    def _gql_commit(self, token: Token, repo: FakeRepo, sha: str) -> dict[str, Any]:
        async def info() -> dict[str, Any]:
            try:
                return await asyncio.to_thread(self._commit_info, repo, sha)
            except GitError as exc:
                raise ResolveError(f"Could not resolve to a Commit with the oid of '{sha}'.") from exc

        async def message(args: Mapping[str, Any]) -> str:
            return cast(str, (await info())["message"])

        async def headline(args: Mapping[str, Any]) -> str:
            return cast(str, (await info())["message"]).split("\n", 1)[0]

        async def authored(args: Mapping[str, Any]) -> str:
            return cast(str, (await info())["author"]["date"])

        async def committed(args: Mapping[str, Any]) -> str:
            return cast(str, (await info())["committer"]["date"])

        async def tree(args: Mapping[str, Any]) -> dict[str, Any]:
            return self._gql_tree(token, repo, cast(str, (await info())["tree"]), "")

        return {
            **self._gql_git_common(token, repo, "Commit", sha),
            "message": message,
            "messageHeadline": headline,
            "authoredDate": authored,
            "committedDate": committed,
            "url": f"{HTML_ROOT}/{repo.full_name}/commit/{sha}",
            "tree": tree,
        }

    def _gql_tree(self, token: Token, repo: FakeRepo, oid: str, path: str | None) -> dict[str, Any]:
        """A Tree; its entries' paths are PATH/name (just the name when PATH is None: read by oid)."""
        loaded: dict[str, RawGitObject | None] = {}

        async def entries(args: Mapping[str, Any]) -> list[dict[str, Any]]:
            out = await asyncio.to_thread(repo.git.git_bytes, "ls-tree", "-z", "--long", oid)
            rows: list[tuple[str, str, str, int, str]] = []
            for record in out.split(b"\0"):
                if record:
                    meta, raw_name = record.split(b"\t", 1)
                    r_mode, r_kind, r_obj, r_size = meta.decode().split()
                    rows.append((r_mode, r_kind, r_obj, int(r_size) if r_size.isdigit() else 0, raw_name.decode()))

            def entry_object(obj: str, kind: str, full: str) -> Callable[[Any], Awaitable[dict[str, Any] | None]]:
                async def resolve(args: Any) -> dict[str, Any] | None:
                    if kind == "commit":
                        return None  # a submodule: the commit is in another repository
                    if not loaded:  # the first entry's object: read all the entries' objects at once
                        wanted = [o for _, k, o, _, _ in rows if k != "commit"]
                        found = await asyncio.to_thread(read_git_objects, repo.git, wanted)
                        loaded.update(zip(wanted, found, strict=True))
                    raw = loaded.get(obj)
                    return None if raw is None else self._gql_git_object(token, repo, raw, full)

                return resolve

            result = []
            for mode, kind, obj, size, name in rows:
                full = f"{path}/{name}" if path else name
                stem, dot, ext = name.rpartition(".")
                result.append(
                    {
                        "__typename": "TreeEntry",
                        "name": name,
                        "path": full,
                        "type": kind,
                        "mode": int(mode, 8),
                        "oid": obj,
                        "size": size,
                        "extension": f".{ext}" if dot and stem else None,
                        "object": entry_object(obj, kind, full),
                        "repository": lambda args: self._gql_repo(token, repo),
                    }
                )
            return result

        return {**self._gql_git_common(token, repo, "Tree", oid), "entries": entries}

    def _gql_git_object(self, token: Token, repo: FakeRepo, raw: RawGitObject, path: str | None) -> dict[str, Any]:
        """A Blob, Tree, Commit or Tag (PATH: where the expression found it, for Tree entries' paths)."""
        if raw.type == "blob":
            is_binary, truncated, text = blob_text(raw.data)
            return {
                **self._gql_git_common(token, repo, "Blob", raw.oid),
                "byteSize": len(raw.data),
                "isBinary": is_binary,
                "isTruncated": truncated,
                "text": text,
            }
        if raw.type == "tree":
            return self._gql_tree(token, repo, raw.oid, path)
        if raw.type == "commit":
            return self._gql_commit(token, repo, raw.oid)
        head, _, message = raw.data.decode("utf-8", errors="replace").partition("\n\n")
        fields = dict(line.split(" ", 1) for line in head.splitlines() if " " in line)

        async def target(args: Mapping[str, Any]) -> dict[str, Any] | None:
            found = (await asyncio.to_thread(read_git_objects, repo.git, [fields.get("object", "")]))[0]
            return None if found is None else self._gql_git_object(token, repo, found, None)

        return {
            **self._gql_git_common(token, repo, "Tag", raw.oid),
            "name": fields.get("tag", ""),
            "message": message,
            "target": target,
        }

    def _gql_comment(self, token: Token, c: ReviewComment) -> dict[str, Any]:
        outdated = self._outdated(c)
        return {
            "__typename": "PullRequestReviewComment",
            "id": c.node_id,
            "databaseId": c.id,
            "fullDatabaseId": str(c.id),
            "body": c.body,
            "path": c.path,
            "line": None if outdated else c.line,
            "originalLine": c.line,
            "startLine": None if outdated else c.start_line,
            "diffHunk": c.diff_hunk,
            "outdated": outdated,
            "url": f"{HTML_ROOT}/{c.repo}/pull/{c.pull_number}#discussion_r{c.id}",
            "createdAt": iso(c.created_at),
            "author": self._gql_actor(c.user),
            "viewerDidAuthor": c.user == self.app.bot_login,
            "commit": self._gql_commit(token, self.repo(c.repo), c.commit_id),
            "isMinimized": c.minimized_reason is not None,
            "minimizedReason": c.minimized_reason,
            "viewerCanMinimize": True,
        }

    def _gql_mutation(self, token: Token) -> dict[str, Any]:
        def input_of(args: Mapping[str, Any], name: str, *required: str) -> dict[str, Any]:
            value = args.get("input")
            type_name = f"{name[0].upper()}{name[1:]}Input"
            if not isinstance(value, dict):
                raise GraphQLError(
                    f"Argument 'input' on Field '{name}' has an invalid value. Expected type '{type_name}!'."
                )
            for key in required:
                if value.get(key) is None:
                    raise GraphQLError(f"Argument '{key}' on InputObject '{type_name}' is required. Expected type ID!")
            return value

        def thread_for(tid: str) -> ReviewThread:
            thread = self.threads.get(tid)
            if thread is None or not self._gql_visible(token, thread.repo):
                raise ResolveError(f"Could not resolve to a node with the global id of '{tid}'")
            if not self._can_access(token, self.repo(thread.repo)):
                raise ResolveError("Resource not accessible by integration", "FORBIDDEN")
            return thread

        def set_resolved(name: str, value: bool) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
            def mutate(args: Mapping[str, Any]) -> dict[str, Any]:
                inp = input_of(args, name, "threadId")
                thread = thread_for(str(inp["threadId"]))
                thread.is_resolved = value
                thread.resolved_by = self.app.bot_login if value else None
                return {
                    "__typename": f"{name[0].upper()}{name[1:]}Payload",
                    "thread": self._gql_thread(token, thread),
                    "clientMutationId": inp.get("clientMutationId"),
                }

            return mutate

        def minimize(args: Mapping[str, Any]) -> dict[str, Any]:
            inp = input_of(args, "minimizeComment", "subjectId", "classifier")
            classifier = str(inp["classifier"])
            if classifier not in MINIMIZE_REASONS:
                raise GraphQLError(
                    f"Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value ({classifier}). "
                    "Expected type 'ReportedContentClassifiers!'."
                )
            comment = next((c for c in self.review_comments.values() if c.node_id == inp["subjectId"]), None)
            if comment is None or not self._gql_visible(token, comment.repo):
                raise ResolveError(f"Could not resolve to a node with the global id of '{inp['subjectId']}'")
            if not self._can_access(token, self.repo(comment.repo)):
                raise ResolveError("Resource not accessible by integration", "FORBIDDEN")
            comment.minimized_reason = MINIMIZE_REASONS[classifier]
            return {
                "__typename": "MinimizeCommentPayload",
                "minimizedComment": self._gql_comment(token, comment),
                "clientMutationId": inp.get("clientMutationId"),
            }

        return {
            "__typename": "Mutation",
            "resolveReviewThread": set_resolved("resolveReviewThread", True),
            "unresolveReviewThread": set_resolved("unresolveReviewThread", False),
            "minimizeComment": minimize,
        }


# ----------------------------------------------------------------------------- fixtures


@contextlib.asynccontextmanager
async def running_fake(workdir: Path, **options: Any) -> AsyncIterator[FakeGitHub]:
    """A started FakeGitHub (OPTIONS go to its constructor), closed on exit."""
    fake = FakeGitHub(workdir, **options)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def app_key() -> AppKey:
    """The process-wide test RSA key pair."""
    return shared_app_key()


@pytest.fixture
async def fake_github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    """A running fake GitHub with no installations or repositories yet."""
    async with running_fake(tmp_path / "github") as fake:
        yield fake


@contextlib.contextmanager
def fake_in_thread(workdir: Path, **options: Any) -> Iterator[tuple[FakeGitHub, asyncio.AbstractEventLoop]]:
    """A started FakeGitHub on its own event loop in a daemon thread, and that loop: for
    benchmarks, so that the fake's work is not counted in the App's own timings."""
    loop = asyncio.new_event_loop()
    ready: queue.Queue[FakeGitHub] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        async with running_fake(workdir, **options) as fake:
            ready.put(fake)
            while not stop.is_set():
                await asyncio.sleep(0.01)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.get(timeout=60), loop
    finally:
        stop.set()
        thread.join(timeout=30)

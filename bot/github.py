"""Every call unroot makes to GitHub, typed, authenticated per installation, with retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from gidgethub import (
    BadGraphQLRequest,
    BadRequest,
    GitHubException,
    GraphQLAuthorizationFailure,
    HTTPException,
    QueryError,
    RateLimitExceeded,
)
from gidgethub.aiohttp import GitHubAPI

from bot.auth import TokenSource
from bot.diff import FileChange, file_status
from bot.limits import ANNOTATIONS_PER_REQUEST, BLOBS_PER_QUERY, MAX_BODY, MAX_PR_FILES, PAGE_SIZE, clip_text
from bot.outputs import CHECK_NAME, RERUN_IDENTIFIER, Annotation, CheckOutput, Conclusion, ReviewComment, ReviewEvent

log = logging.getLogger(__name__)
USER_AGENT = "unroot-app"

Json = dict[str, Any]
T = TypeVar("T")


class GitHubError(RuntimeError):
    """GitHub refused or failed a call after retries; `status` is its HTTP status (0: no answer).

    `transient` says whether the same call may succeed later: no answer and 5xx may, a 4xx or a
    GraphQL error such as NOT_FOUND or FORBIDDEN will not."""

    def __init__(self, message: str, status: int = 0, transient: bool | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.transient = (status == 0 or status >= 500) if transient is None else transient


# GraphQL answers 200 with `errors`; only these types are worth asking again.
GRAPHQL_TRANSIENT = frozenset({"RATE_LIMITED", "SERVICE_UNAVAILABLE", "TIMEOUT", "INTERNAL"})


@dataclass
class RetryPolicy:
    """How long to keep trying: bounded in attempts and in total time.

    5xx answers, connection errors and timeouts back off exponentially with jitter;
    rate limits wait as GitHub says (retry-after, x-ratelimit-reset), and a secondary
    limit without a retry-after waits at least `secondary_floor` seconds (GitHub asks
    for a minute; tests lower it).
    """

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0
    secondary_floor: float = 60.0
    max_total: float = 600.0

    def delay(self, attempt: int) -> float:
        backoff: float = min(self.max_delay, self.base_delay * 2.0**attempt)
        return backoff * (0.5 + random.random() / 2)


@dataclass
class Counters:
    """What the client did, for /metrics."""

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0


def _status_of(error: BaseException) -> int:
    code = getattr(error, "status_code", None)
    return int(code) if code is not None else 0


def _rate_limit_wait(error: BaseException, policy: RetryPolicy, now: float) -> float | None:
    """Seconds to wait when `error` is a rate limit (primary or secondary); None otherwise."""
    if isinstance(error, RateLimitExceeded):
        reset = error.rate_limit.reset_datetime.timestamp() if error.rate_limit else now + policy.secondary_floor
        return max(1.0, reset - now)
    status = _status_of(error)
    if status not in (403, 429):
        return None
    headers = {k.lower(): v for k, v in (getattr(error, "headers", None) or {}).items()}
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return policy.secondary_floor
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        return max(1.0, float(headers["x-ratelimit-reset"]) - now)
    text = str(error).lower() + str(getattr(error, "response", "")).lower()
    if "rate limit" in text or status == 429:
        return policy.secondary_floor
    return None


# One round trip for everything known before the file list: the config on the default
# branch, and (for a pull request) the bot's earlier threads and review bodies.
META_QUERY = """
query($owner: String!, $name: String!, $config: String!, $number: Int!, $pull: Boolean!, $after: String, $page: Int!) {
  repository(owner: $owner, name: $name) {
    config: object(expression: $config) { ... on Blob { text isTruncated } }
    pullRequest(number: $number) @include(if: $pull) {
      headRefOid
      reviewThreads(first: $page, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { body viewerDidAuthor } } }
        pageInfo { hasNextPage endCursor }
      }
      reviews(last: $page) { nodes { body viewerDidAuthor } }
    }
  }
}
"""


def blobs_query(count: int) -> str:
    """One query for `count` files at a commit: facts and text of each, as aliases f0, f1, ..."""
    fields = "\n".join(
        f"f{i}: object(expression: $e{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
        for i in range(count)
    )
    params = "".join(f", $e{i}: String!" for i in range(count))
    return f"query($owner: String!, $name: String!{params}) {{ repository(owner: $owner, name: $name) {{ {fields} }} }}"


def resolve_mutation(count: int) -> str:
    """One mutation resolving `count` review threads, given as $t0, $t1, ..."""
    fields = " ".join(
        f"r{i}: resolveReviewThread(input: {{threadId: $t{i}}}) {{ thread {{ id }} }}" for i in range(count)
    )
    params = ", ".join(f"$t{i}: ID!" for i in range(count))
    return f"mutation({params}) {{ {fields} }}"


@dataclass(frozen=True)
class ThreadInfo:
    """A review thread the App started: its GraphQL id, whether resolved, its first comment's body."""

    id: str
    resolved: bool
    body: str


@dataclass(frozen=True)
class RepoMeta:
    """What one meta query tells: the config file's text, and the App's own posts on the pull request."""

    config_text: str | None  # None: no such file on the default branch
    review_bodies: tuple[str, ...]
    threads: tuple[ThreadInfo, ...]
    head: str | None  # the pull request's head commit as GitHub has it now


@dataclass(frozen=True)
class Blob:
    """A file at a commit, as GraphQL describes it; `text` is None for a binary or truncated one."""

    text: str | None
    is_binary: bool
    is_truncated: bool
    byte_size: int


@dataclass(frozen=True)
class Tree:
    """The regular files of a commit, as the git trees API lists them; `truncated` when GitHub
    cut the listing short (over 100,000 entries or 7 MB), so some files are missing."""

    paths: tuple[str, ...]
    truncated: bool
    sizes: Mapping[str, int] = field(default_factory=dict)  # bytes of each path the listing gave a size for


def _blob(node: object) -> Blob | None:
    if not isinstance(node, dict):
        return None
    text = node.get("text")
    return Blob(
        str(text) if text is not None else None,
        bool(node.get("isBinary")),
        bool(node.get("isTruncated")),
        int(node.get("byteSize") or 0),
    )


@dataclass(frozen=True)
class CheckRunRef:
    """One of our check runs: its id, and its page on GitHub (the review links its annotations)."""

    id: int
    html_url: str | None


def _run_ref(run: Json) -> CheckRunRef:
    url = run.get("html_url")
    # Only a plain https link goes into the review's Markdown.
    plain = isinstance(url, str) and url.startswith("https://") and not any(c in url for c in " ()<>[]\n")
    return CheckRunRef(int(run["id"]), url if plain else None)


class InstallationClient:
    """GitHub API calls for one installation; tokens are refreshed as they near expiry."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenSource,
        installation_id: int,
        api_url: str,
        graphql_url: str,
        retry: RetryPolicy | None = None,
        app_id: int | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.app_id = app_id
        self._gh = GitHubAPI(session, USER_AGENT, base_url=api_url)
        self._tokens = tokens
        self._installation_id = installation_id
        self._graphql_url = graphql_url
        self._retry = retry or RetryPolicy()
        self.counters = counters or Counters()

    async def _retrying(
        self,
        label: str,
        operation: Callable[[], Awaitable[T]],
        applied: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """The one place that decides to retry, wait or give up, for every call.

        For a create, `applied` looks for what the call would have made: after an answer that
        leaves it unknown whether GitHub applied the write (no answer, a 5xx), the thing found
        is returned instead of creating a second one."""
        deadline = time.monotonic() + self._retry.max_total
        refused_once = False
        attempt = 0
        unknown = False  # the last attempt may have been applied
        while True:
            try:
                if unknown and applied is not None:
                    unknown = False
                    made = await applied()
                    if made is not None:
                        log.info("%s: the write was applied although its answer was lost; reusing it", label)
                        return made
                self._gh.oauth_token = await self._tokens.token(self._installation_id)
                self.counters.calls += 1
                return await operation()
            except GitHubError as error:  # the installation token could not be had, or a GraphQL error
                if not error.transient:
                    raise
                if error.status == 200:  # RATE_LIMITED in a GraphQL answer: GitHub asks for a minute
                    wait = self._retry.secondary_floor
                    self.counters.rate_limited += 1
                else:
                    wait = self._retry.delay(attempt)
                problem = f"{label}: {error}"
            except (GraphQLAuthorizationFailure, BadRequest, BadGraphQLRequest) as error:
                status = 401 if isinstance(error, GraphQLAuthorizationFailure) else _status_of(error)
                if status == 401 and not refused_once and isinstance(error, (GraphQLAuthorizationFailure, BadRequest)):
                    refused_once = True  # token revoked or expired early: fetch a new one once
                    await self._tokens.forget(self._installation_id)
                    continue
                wait, problem = self._rate_limited(label, status, error)
            except QueryError as error:
                raise GitHubError(f"{label}: {error}", transient=False) from None
            except GitHubException as error:  # 5xx and other answers
                status = _status_of(error)
                if status < 500:
                    raise GitHubError(f"{label}: {status} {error}", status) from None
                wait, problem = self._retry.delay(attempt), f"{label}: GitHub answered {status}"
                unknown = True
            except (TimeoutError, aiohttp.ClientError) as error:
                wait, problem = self._retry.delay(attempt), f"{label}: {type(error).__name__} {error}".strip()
                unknown = True
            attempt += 1
            if attempt >= self._retry.attempts or time.monotonic() + wait > deadline:
                raise GitHubError(f"{problem} (gave up after {attempt} attempts)")
            self.counters.retries += 1
            await asyncio.sleep(wait)

    def _rate_limited(self, label: str, status: int, error: Exception) -> tuple[float, str]:
        """How long to wait on a refusal that is a rate limit; any other refusal is raised as final."""
        limited = _rate_limit_wait(error, self._retry, time.time())
        if limited is None:
            raise GitHubError(f"{label}: {status} {error}", status) from None
        self.counters.rate_limited += 1
        log.warning("rate limited on %s: waiting %.1f s", label, limited)
        return limited, f"{label}: rate limited by GitHub ({status})"

    async def _call(
        self,
        method: str,
        url: str,
        data: Any = None,
        applied: Callable[[], Awaitable[Any]] | None = None,
        **url_vars: Any,
    ) -> Any:
        async def operation() -> Any:
            if method == "GET":
                return await self._gh.getitem(url, url_vars)
            if method == "POST":
                return await self._gh.post(url, url_vars, data=data)
            if method == "PATCH":
                return await self._gh.patch(url, url_vars, data=data)
            raise ValueError(method)

        return await self._retrying(f"{method} {url}", operation, applied)

    async def _iterate(self, url: str, limit: int = MAX_PR_FILES, **url_vars: Any) -> list[Json]:
        async def operation() -> list[Json]:
            items: list[Json] = []
            async for item in self._gh.getiter(url, url_vars):
                items.append(item)
                if len(items) >= limit:
                    break
            self.counters.calls += max(0, -(-len(items) // PAGE_SIZE) - 1)  # one call a page
            return items

        return await self._retrying(f"GET {url}", operation)

    # Repository and pull request reads.

    async def pull_files(self, repo: str, number: int, changed_files: int | None = None) -> list[FileChange]:
        """The PR's files (GitHub lists up to 3000). With the count from the webhook, all pages
        are asked for at once instead of following Link headers one by one."""
        if changed_files is None:
            url = "/repos/{+repo}/pulls/{number}/files?per_page={per_page}"
            items = await self._iterate(url, repo=repo, number=number, per_page=PAGE_SIZE)
            return [_file_change(item) for item in items]
        pages = max(1, -(-min(changed_files, MAX_PR_FILES) // PAGE_SIZE))
        url = "/repos/{+repo}/pulls/{number}/files?per_page={per_page}&page={page}"
        # The count comes with the webhook for this very head commit, so the pages are known.
        results = await asyncio.gather(
            *(self._call("GET", url, repo=repo, number=number, per_page=PAGE_SIZE, page=p) for p in range(1, pages + 1))
        )
        return [_file_change(item) for page in results for item in page]

    async def compare_files(self, repo: str, base: str, head: str) -> list[FileChange]:
        """Files changed between two commits. Compare pages through commits, not files: the
        first page carries the files (GitHub lists at most 300), so one call is all there is."""
        result = await self._call(
            "GET", "/repos/{+repo}/compare/{base}...{head}?per_page=1", repo=repo, base=base, head=head
        )
        return [_file_change(item) for item in result.get("files", [])]

    async def file_bytes(self, repo: str, path: str, ref: str) -> bytes | None:
        """A file's content at `ref`; None when it does not exist (or is not a regular file)."""
        # Each segment percent-encoded: raw, a '#', '?' or '%' in a file name would cut the URL
        # short and name another file (reserved expansion keeps what it is given).
        encoded = "/".join(urllib.parse.quote(segment, safe="") for segment in path.split("/"))
        try:
            item = await self._call(
                "GET", "/repos/{+repo}/contents/{+path}?ref={ref}", repo=repo, path=encoded, ref=ref
            )
        except GitHubError as error:
            if error.status == 404:
                return None
            raise
        if not isinstance(item, dict) or item.get("type") != "file" or item.get("path", path) != path:
            # A directory, a submodule, or a symlink (GitHub answers a link to a file with the
            # target, under the target's path): links are never followed.
            return None
        if item.get("encoding") == "base64" and item.get("content"):
            return base64.b64decode(item["content"])
        blob = await self._call("GET", "/repos/{+repo}/git/blobs/{sha}", repo=repo, sha=item["sha"])
        return base64.b64decode(blob.get("content", ""))

    # Check runs.

    async def directory_sha(self, repo: str, path: str, ref: str) -> str | None:
        """The git tree SHA of the folder `path` at `ref`, from its parent's contents listing; None
        when there is no such folder."""
        parent, _, name = path.rpartition("/")
        encoded = "/".join(urllib.parse.quote(segment, safe="") for segment in parent.split("/")) if parent else ""
        try:
            listing = await self._call(
                "GET", "/repos/{+repo}/contents/{+path}?ref={ref}", repo=repo, path=encoded, ref=ref
            )
        except GitHubError as error:
            if error.status == 404:
                return None
            raise
        entries = listing if isinstance(listing, list) else []
        for entry in entries:
            if isinstance(entry, dict) and entry.get("type") == "dir" and entry.get("name") == name:
                return str(entry["sha"])
        return None

    async def tree(self, repo: str, sha: str, prefix: str = "") -> Tree:
        """Every regular file at commit (or tree) `sha`, in one call (symlinks and submodules left
        out); for a folder's tree, `prefix` is its path, so that paths are the repository's."""
        result = await self._call("GET", "/repos/{+repo}/git/trees/{sha}?recursive=1", repo=repo, sha=sha)
        entries = result.get("tree", []) if isinstance(result, dict) else []
        files = [
            entry
            for entry in entries
            if isinstance(entry, dict) and entry.get("type") == "blob" and entry.get("mode") in ("100644", "100755")
        ]
        lead = f"{prefix}/" if prefix else ""
        paths = tuple(lead + str(entry["path"]) for entry in files)
        sizes = {lead + str(e["path"]): e["size"] for e in files if isinstance(e.get("size"), int)}
        return Tree(paths, bool(result.get("truncated")) if isinstance(result, dict) else False, sizes)

    async def _check_runs_for(self, repo: str, sha: str) -> list[Json]:
        result = await self._call(
            "GET", "/repos/{+repo}/commits/{sha}/check-runs?check_name={name}", repo=repo, sha=sha, name=CHECK_NAME
        )
        return list(result.get("check_runs", []))

    async def our_check_runs(self, repo: str, sha: str) -> list[int]:
        """The ids of this App's `unroot` runs on a commit."""
        return [run.id for run in await self.our_check_run_refs(repo, sha)]

    async def our_check_run_refs(self, repo: str, sha: str) -> list[CheckRunRef]:
        """This App's `unroot` runs on a commit, with their pages."""
        return [_run_ref(run) for run in await self._check_runs_for(repo, sha) if self._ours(run)]

    async def create_check_run(self, repo: str, sha: str, output: CheckOutput) -> CheckRunRef:
        """Create our run for a commit; a create whose answer was lost is found again by its
        external_id, not made twice (an orphan would stay in progress for ever)."""
        external_id = f"unroot:{sha}"
        data = {
            "name": CHECK_NAME,
            "head_sha": sha,
            "status": "in_progress",
            "external_id": external_id,
            "output": _output(output),
        }

        async def applied() -> Json | None:
            runs = await self._check_runs_for(repo, sha)
            return next((run for run in runs if run.get("external_id") == external_id and self._ours(run)), None)

        result = await self._call("POST", "/repos/{+repo}/check-runs", data, applied, repo=repo)
        return _run_ref(result)

    def _ours(self, run: Json) -> bool:
        """Whether a check run is this App's `unroot` run."""
        return run.get("name") == CHECK_NAME and (run.get("app") or {}).get("id") in (None, self.app_id)

    async def restart_check_run(self, repo: str, check_run_id: int, output: CheckOutput) -> None:
        """Put a finished run of ours back in progress (a re-run, or a second event for its commit)."""
        data = {"status": "in_progress", "output": _output(output)}
        await self._call("PATCH", "/repos/{+repo}/check-runs/{id}", data, repo=repo, id=check_run_id)

    async def publish_annotations(
        self, repo: str, check_run_id: int, meanwhile: CheckOutput, annotations: Sequence[Annotation]
    ) -> Sequence[Annotation]:
        """The one place that batches annotations. GitHub takes 50 a request: every annotation
        beyond the first 50 is added now, at most two requests at a time (GitHub appends them in
        any order; few concurrent writes, as it asks, but a 300-file PR is not 6 writes deep).
        `meanwhile` is the run's output while they are added. Returns the first 50, for the
        request that completes the run."""
        head, rest = annotations[:ANNOTATIONS_PER_REQUEST], annotations[ANNOTATIONS_PER_REQUEST:]
        batches = [rest[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(rest), ANNOTATIONS_PER_REQUEST)]
        for pair in range(0, len(batches), 2):
            await asyncio.gather(
                *(self._add_annotations(repo, check_run_id, meanwhile, batch) for batch in batches[pair : pair + 2])
            )
        return head

    async def _add_annotations(
        self, repo: str, check_run_id: int, meanwhile: CheckOutput, batch: Sequence[Annotation]
    ) -> None:
        output = {**_output(meanwhile), "annotations": [_annotation(a) for a in batch]}

        async def applied() -> Json | None:  # GitHub appends annotations: a resent batch would show twice
            return {} if await self._has_annotations(repo, check_run_id, batch) else None

        await self._call(
            "PATCH", "/repos/{+repo}/check-runs/{id}", {"output": output}, applied, repo=repo, id=check_run_id
        )

    async def _has_annotations(self, repo: str, check_run_id: int, batch: Sequence[Annotation]) -> bool:
        """Whether the run already carries every annotation of `batch` (a write whose answer was lost)."""
        url = "/repos/{+repo}/check-runs/{id}/annotations?per_page={per_page}"
        listed = await self._iterate(url, limit=10**6, repo=repo, id=check_run_id, per_page=PAGE_SIZE)
        present = {_annotation_key(item) for item in listed}
        return all(_annotation_key(_annotation(a)) in present for a in batch)

    async def complete_check_run(
        self,
        repo: str,
        check_run_id: int,
        conclusion: Conclusion,
        output: CheckOutput,
        annotations: Sequence[Annotation] = (),
    ) -> None:
        """Complete a run; annotations beyond the 50 the completing request carries are added first."""
        head = await self.publish_annotations(repo, check_run_id, output, annotations)
        final: Json = {"status": "completed", "conclusion": conclusion, "output": _output(output)}
        if head:
            final["output"]["annotations"] = [_annotation(a) for a in head]
        if output.button is not None:
            final["actions"] = [
                {"label": output.button.label, "description": output.button.description, "identifier": RERUN_IDENTIFIER}
            ]

        async def applied() -> Json | None:  # resent, the completion would add its annotations again
            run: Json = await self._call("GET", "/repos/{+repo}/check-runs/{id}", repo=repo, id=check_run_id)
            if run.get("status") != "completed" or run.get("conclusion") != conclusion:
                return None
            return run if await self._has_annotations(repo, check_run_id, head) else None

        await self._call("PATCH", "/repos/{+repo}/check-runs/{id}", final, applied, repo=repo, id=check_run_id)

    # Reviews.

    async def create_review(
        self, repo: str, number: int, commit_id: str, body: str, event: ReviewEvent, comments: Sequence[ReviewComment]
    ) -> Json:
        """Post a review. The body ends with a marker unique to this review's content, so a post
        whose answer was lost is found on the pull request instead of being posted twice."""
        marker = f"<!-- unroot-review {commit_id}:{_digest(body, comments)} -->"
        body = clip_text(body, MAX_BODY - len(marker) - 2)
        data: Json = {
            "commit_id": commit_id,
            "body": f"{body}\n\n{marker}" if body else marker,
            "event": event,
            "comments": [_comment(c) for c in comments],
        }

        async def applied() -> Json | None:
            url = "/repos/{+repo}/pulls/{number}/reviews?per_page={per_page}"
            reviews = await self._iterate(url, repo=repo, number=number, per_page=PAGE_SIZE)
            return next(
                (r for r in reviews if r.get("commit_id") == commit_id and str(r.get("body") or "").endswith(marker)),
                None,
            )

        result: Json = await self._call(
            "POST", "/repos/{+repo}/pulls/{number}/reviews", data, applied, repo=repo, number=number
        )
        return result

    # GraphQL reads and writes.

    async def repo_meta(self, repo: str, config_expression: str, pr_number: int | None) -> RepoMeta:
        """In one round trip (more only for over 100 threads): the config blob, and for a pull
        request its head commit and what the App itself wrote on it (review bodies, threads)."""
        owner, name = repo.split("/", 1)
        variables: Json = {
            "owner": owner,
            "name": name,
            "config": config_expression,
            "number": pr_number or 0,
            "pull": pr_number is not None,
            "after": None,
            "page": PAGE_SIZE,
        }
        data = await self.graphql(META_QUERY, **variables)
        repository = data.get("repository") or {}
        blob = repository.get("config") or {}
        text = blob.get("text")
        pull = repository.get("pullRequest") or {}
        # Only what the App itself wrote counts: anyone who can comment could otherwise post our
        # markers and silence the bot's inline comments.
        bodies = tuple(
            str(review.get("body") or "")
            for review in (pull.get("reviews") or {}).get("nodes") or []
            if review.get("viewerDidAuthor") is True
        )
        threads: list[ThreadInfo] = []
        page = pull.get("reviewThreads")
        for _ in range(50):
            if not page:
                break
            for node in page.get("nodes") or []:
                comments = (node.get("comments") or {}).get("nodes") or []
                if comments and comments[0].get("viewerDidAuthor") is True:
                    threads.append(
                        ThreadInfo(str(node["id"]), bool(node.get("isResolved")), str(comments[0].get("body") or ""))
                    )
            if not (page.get("pageInfo") or {}).get("hasNextPage"):
                break
            variables["after"] = page["pageInfo"]["endCursor"]
            more = await self.graphql(META_QUERY, **variables)
            page = ((more.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads")
        head = pull.get("headRefOid")
        return RepoMeta(
            str(text) if text is not None else None, bodies, tuple(threads), head if isinstance(head, str) else None
        )

    async def blobs(self, repo: str, sha: str, paths: Sequence[str]) -> dict[str, Blob | None]:
        """Facts and text of many files at a commit, 50 a GraphQL query, the queries side by side;
        None for a path with no file there (a submodule, or gone)."""
        owner, name = repo.split("/", 1)

        async def batch(chunk: Sequence[str]) -> dict[str, Blob | None]:
            query = blobs_query(len(chunk))
            variables = {f"e{i}": f"{sha}:{path}" for i, path in enumerate(chunk)}
            data = await self.graphql(query, owner=owner, name=name, **variables)
            repository = data.get("repository") or {}
            return {path: _blob(repository.get(f"f{i}")) for i, path in enumerate(chunk)}

        chunks = [paths[i : i + BLOBS_PER_QUERY] for i in range(0, len(paths), BLOBS_PER_QUERY)]
        found: dict[str, Blob | None] = {}
        for part in await asyncio.gather(*(batch(chunk) for chunk in chunks)):
            found.update(part)
        return found

    async def resolve_threads(self, thread_ids: Sequence[str]) -> None:
        """Resolve review threads, all in one mutation."""
        if not thread_ids:
            return
        variables = {f"t{i}": thread for i, thread in enumerate(thread_ids)}
        await self.graphql(resolve_mutation(len(thread_ids)), **variables)

    async def graphql(self, query: str, **variables: Any) -> Json:
        """A GraphQL query through the REST machinery, so that its rate-limit answers carry their
        headers (gidgethub's graphql() drops them, and a retry-after would be lost)."""
        payload: Json = {"query": query, "variables": variables}

        async def operation() -> Json:
            result = await self._gh.post(self._graphql_url, data=payload)
            if not isinstance(result, dict):
                raise GitHubError(f"GraphQL: unexpected answer {type(result).__name__}")
            errors = result.get("errors")
            if errors:
                listed = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
                messages = "; ".join(str(e.get("message", e)) for e in listed[:3]) or str(errors)[:200]
                types = {str(e.get("type", "")) for e in listed}
                # Permanent unless every error is of a kind that passes (a bad query stays bad).
                transient = bool(types) and types <= GRAPHQL_TRANSIENT
                raise GitHubError(f"GraphQL: {messages}", 200, transient=transient)
            data: Json = result.get("data") or {}
            return data

        return await self._retrying("GraphQL", operation)


def _digest(body: str, comments: Sequence[ReviewComment]) -> str:
    """A short hash of what a review says, to recognise it again."""
    text = body + "".join(f"\0{c.path}\0{c.start_line}\0{c.line}\0{c.body}" for c in comments)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _file_change(item: Json) -> FileChange:
    return FileChange(
        path=str(item["filename"]), status=file_status(item.get("status", "modified")), patch=item.get("patch")
    )


def _annotation_key(item: Json) -> tuple[object, ...]:
    """What tells one annotation from another, as sent and as GitHub lists it."""
    return tuple(item.get(k) for k in ("path", "start_line", "end_line", "annotation_level", "title", "message"))


def _output(output: CheckOutput) -> Json:
    return {"title": output.title, "summary": output.summary}


def _annotation(annotation: Annotation) -> Json:
    data: Json = {
        "path": annotation.path,
        "start_line": annotation.start_line,
        "end_line": annotation.end_line,
        "annotation_level": annotation.annotation_level,
        "title": annotation.title,
        "message": annotation.message,
    }
    if annotation.raw_details:
        data["raw_details"] = annotation.raw_details
    return data


def _comment(comment: ReviewComment) -> Json:
    data: Json = {"path": comment.path, "line": comment.line, "side": "RIGHT", "body": comment.body}
    if comment.start_line is not None:
        data["start_line"] = comment.start_line
        data["start_side"] = "RIGHT"
    return data


async def create_installation_token(
    session: aiohttp.ClientSession, api_url: str, installation_id: int, app_jwt: str
) -> tuple[str, str]:
    """A new installation access token and its expiry (ISO 8601), asked with the App's JWT.
    A rate limit on this endpoint passes (transient); other refusals (the App uninstalled) do not."""
    gh = GitHubAPI(session, USER_AGENT, base_url=api_url)
    label = f"installation token for {installation_id}"
    try:
        body = await gh.post(
            "/app/installations/{id}/access_tokens",
            {"id": installation_id},
            data=b"",
            jwt=app_jwt,
            accept="application/vnd.github+json",  # the media type GitHub documents for this endpoint
        )
        return str(body["token"]), str(body["expires_at"])
    except HTTPException as error:
        status = _status_of(error)
        headers = {k.lower() for k in (getattr(error, "headers", None) or {})}
        limited = (
            isinstance(error, RateLimitExceeded)
            or status == 429
            or (status == 403 and ("retry-after" in headers or "rate limit" in str(error).lower()))
        )
        raise GitHubError(f"{label}: {status} {error}", status, transient=True if limited else None) from None
    except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as error:
        raise GitHubError(f"{label}: {type(error).__name__} {error}") from None

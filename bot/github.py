"""Every call unroot makes to GitHub, typed, authenticated per installation, with retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from gidgethub import (
    BadGraphQLRequest,
    BadRequest,
    GitHubException,
    GraphQLAuthorizationFailure,
    QueryError,
    RateLimitExceeded,
)
from gidgethub.aiohttp import GitHubAPI

from bot.auth import TokenCache
from bot.plan import Annotation, FileChange, ReviewComment

log = logging.getLogger(__name__)
USER_AGENT = "unroot-app"
CHECK_NAME = "unroot"
MAX_FILES = 3000
ANNOTATIONS_PER_REQUEST = 50
# The Contents API answers files up to 1 MB; beyond it, the blob API (up to 100 MB).
CONTENTS_LIMIT = 1024 * 1024

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


class InstallationClient:
    """GitHub API calls for one installation; tokens are refreshed as they near expiry."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenCache,
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

    @property
    def calls(self) -> int:
        return self.counters.calls

    async def _retrying(
        self, label: str, operation: Callable[[], Awaitable[T]], applied: Callable[[], Awaitable[T | None]] | None = None
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
            except (GraphQLAuthorizationFailure, BadRequest) as error:
                status = 401 if isinstance(error, GraphQLAuthorizationFailure) else _status_of(error)
                if status == 401 and not refused_once:
                    refused_once = True  # token revoked or expired early: fetch a new one once
                    await self._tokens.forget(self._installation_id)
                    continue
                limited = _rate_limit_wait(error, self._retry, time.time())
                if limited is None:
                    raise GitHubError(f"{label}: {status} {error}", status) from None
                wait = limited
                self.counters.rate_limited += 1
                log.warning("rate limited on %s: waiting %.1f s", label, wait)
                problem = f"{label}: rate limited by GitHub ({status})"
            except BadGraphQLRequest as error:
                status = _status_of(error)
                limited = _rate_limit_wait(error, self._retry, time.time()) if status in (403, 429) else None
                if limited is None:
                    raise GitHubError(f"{label}: {status} {error}", status) from None
                wait = limited
                self.counters.rate_limited += 1
                problem = f"{label}: rate limited by GitHub ({status})"
            except QueryError as error:
                raise GitHubError(f"{label}: {error}", transient=False) from None
            except GitHubException as error:  # 5xx and other answers
                status = _status_of(error)
                if status < 500:
                    raise GitHubError(f"{label}: {status} {error}", status) from None
                wait, problem = self._retry.delay(attempt), f"{label}: GitHub answered {status}"
                unknown = True
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                wait, problem = self._retry.delay(attempt), f"{label}: {type(error).__name__} {error}".strip()
                unknown = True
            attempt += 1
            if attempt >= self._retry.attempts or time.monotonic() + wait > deadline:
                raise GitHubError(f"{problem} (gave up after {attempt} attempts)")
            self.counters.retries += 1
            await asyncio.sleep(wait)

    async def _call(
        self, method: str, url: str, data: Any = None, applied: Callable[[], Awaitable[Any]] | None = None, **url_vars: Any
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

    async def _iterate(self, url: str, limit: int = MAX_FILES, **url_vars: Any) -> list[Json]:
        async def operation() -> list[Json]:
            items: list[Json] = []
            async for item in self._gh.getiter(url, url_vars):
                items.append(item)
                if len(items) >= limit:
                    break
            self.counters.calls += max(0, -(-len(items) // 100) - 1)  # one call a page of 100
            return items

        return await self._retrying(f"GET {url}", operation)

    # Repository and pull request reads.

    async def pull_files(self, repo: str, number: int, changed_files: int | None = None) -> list[FileChange]:
        """The PR's files (GitHub lists up to 3000). With the count from the webhook, all pages
        are asked for at once instead of following Link headers one by one."""
        if changed_files is None:
            items = await self._iterate("/repos/{+repo}/pulls/{number}/files?per_page=100", repo=repo, number=number)
            return [_file_change(item) for item in items]
        pages = max(1, -(-min(changed_files, MAX_FILES) // 100))
        url = "/repos/{+repo}/pulls/{number}/files?per_page=100&page={page}"
        # The count comes with the webhook for this very head commit, so the pages are known.
        results = await asyncio.gather(*(self._call("GET", url, repo=repo, number=number, page=p) for p in range(1, pages + 1)))
        return [_file_change(item) for page in results for item in page]

    async def compare_files(self, repo: str, base: str, head: str) -> list[FileChange]:
        """Files changed between two commits. Compare pages through commits, not files: the
        first page carries the files (GitHub lists at most 300), so one call is all there is."""
        result = await self._call("GET", "/repos/{+repo}/compare/{base}...{head}?per_page=1", repo=repo, base=base, head=head)
        return [_file_change(item) for item in result.get("files", [])]

    async def file_bytes(self, repo: str, path: str, ref: str) -> bytes | None:
        """A file's content at `ref`; None when it does not exist (or is not a regular file)."""
        # Each segment percent-encoded: raw, a '#', '?' or '%' in a file name would cut the URL
        # short and name another file (reserved expansion keeps what it is given).
        encoded = "/".join(urllib.parse.quote(segment, safe="") for segment in path.split("/"))
        try:
            item = await self._call("GET", "/repos/{+repo}/contents/{+path}?ref={ref}", repo=repo, path=encoded, ref=ref)
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

    async def check_runs_for(self, repo: str, sha: str) -> list[Json]:
        result = await self._call(
            "GET", "/repos/{+repo}/commits/{sha}/check-runs?check_name={name}", repo=repo, sha=sha, name=CHECK_NAME
        )
        return list(result.get("check_runs", []))

    async def create_check_run(self, repo: str, sha: str, title: str, summary: str) -> int:
        """Create our run for a commit; a create whose answer was lost is found again by its
        external_id, not made twice (an orphan would stay in progress for ever)."""
        external_id = f"unroot:{sha}"
        data = {
            "name": CHECK_NAME,
            "head_sha": sha,
            "status": "in_progress",
            "external_id": external_id,
            "output": {"title": title, "summary": summary},
        }

        async def applied() -> Json | None:
            runs = await self.check_runs_for(repo, sha)
            return next((run for run in runs if run.get("external_id") == external_id and self.ours(run)), None)

        result = await self._call("POST", "/repos/{+repo}/check-runs", data, applied, repo=repo)
        return int(result["id"])

    def ours(self, run: Json) -> bool:
        """Whether a check run is this App's `unroot` run."""
        return run.get("name") == CHECK_NAME and (run.get("app") or {}).get("id") in (None, self.app_id)

    async def restart_check_run(self, repo: str, check_run_id: int, title: str, summary: str) -> None:
        data = {"status": "in_progress", "output": {"title": title, "summary": summary}}
        await self._call("PATCH", "/repos/{+repo}/check-runs/{id}", data, repo=repo, id=check_run_id)

    async def add_annotations(self, repo: str, check_run_id: int, title: str, annotations: Sequence[Annotation]) -> None:
        """Add annotations to a run in progress, 50 a request, one request after another."""
        for start in range(0, len(annotations), ANNOTATIONS_PER_REQUEST):
            batch = annotations[start : start + ANNOTATIONS_PER_REQUEST]
            output = {"title": title, "summary": "unroot is publishing its findings.", "annotations": [_annotation(a) for a in batch]}
            await self._call("PATCH", "/repos/{+repo}/check-runs/{id}", {"output": output}, repo=repo, id=check_run_id)

    async def complete_check_run(
        self,
        repo: str,
        check_run_id: int,
        conclusion: str,
        title: str,
        summary: str,
        annotations: Sequence[Annotation] = (),
        actions: Sequence[Json] = (),
        text: str | None = None,
    ) -> None:
        """Complete a run with at most 50 annotations in the completing request; any more are
        added first, through add_annotations (the one place that batches them)."""
        head, rest = annotations[:ANNOTATIONS_PER_REQUEST], annotations[ANNOTATIONS_PER_REQUEST:]
        if rest:
            await self.add_annotations(repo, check_run_id, title, rest)
        output: Json = {"title": title, "summary": summary}
        if text:
            output["text"] = text
        final: Json = {"status": "completed", "conclusion": conclusion, "output": dict(output)}
        if head:
            final["output"]["annotations"] = [_annotation(a) for a in head]
        if actions:
            final["actions"] = list(actions)
        await self._call("PATCH", "/repos/{+repo}/check-runs/{id}", final, repo=repo, id=check_run_id)

    # Reviews.

    async def create_review(
        self, repo: str, number: int, commit_id: str, body: str, event: str, comments: Sequence[ReviewComment]
    ) -> Json:
        """Post a review. The body ends with a marker unique to this review's content, so a post
        whose answer was lost is found on the pull request instead of being posted twice."""
        marker = f"<!-- unroot-review {commit_id}:{_digest(body, comments)} -->"
        data: Json = {
            "commit_id": commit_id,
            "body": f"{body}\n\n{marker}" if body else marker,
            "event": event,
            "comments": [_comment(c) for c in comments],
        }

        async def applied() -> Json | None:
            reviews = await self._iterate("/repos/{+repo}/pulls/{number}/reviews?per_page=100", repo=repo, number=number)
            return next((r for r in reviews if r.get("commit_id") == commit_id and str(r.get("body") or "").endswith(marker)), None)

        result: Json = await self._call("POST", "/repos/{+repo}/pulls/{number}/reviews", data, applied, repo=repo, number=number)
        return result

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
    return FileChange(path=str(item["filename"]), status=str(item.get("status", "modified")), patch=item.get("patch"))


def _annotation(annotation: Annotation) -> Json:
    data: Json = {
        "path": annotation.path,
        "start_line": annotation.start_line,
        "end_line": annotation.end_line,
        "annotation_level": annotation.annotation_level,
        "title": annotation.title[:255],
        "message": _clip_bytes(annotation.message, 64_000),
    }
    if annotation.raw_details:
        data["raw_details"] = _clip_bytes(annotation.raw_details, 64_000)
    return data


def _clip_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes (GitHub counts bytes), cut on a character boundary."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def _comment(comment: ReviewComment) -> Json:
    data: Json = {"path": comment.path, "line": comment.line, "side": "RIGHT", "body": comment.body}
    if comment.start_line is not None:
        data["start_line"] = comment.start_line
        data["start_side"] = "RIGHT"
    return data

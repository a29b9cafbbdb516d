"""The fake GitHub server: state plus faults, one aiohttp handler that logs, injects, authenticates and routes."""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Self

from aiohttp import web

from .auth import access, check_jwt, check_token
from .backend import GitHubState
from .common import API_DOCS, GHES_PREFIX, JSONValue
from .faults import PRIMARY_DOC, Fault, FaultInjection, secondary_limit_body
from .keys import AppKey
from .manifests import new_app_form
from .openapi import OpenAPISubset
from .replies import Ctx, Reply, error, not_found
from .routes import Route, match, routes
from .state import LoggedRequest


class FakeGitHub(GitHubState, FaultInjection):
    """The fake GitHub: REST + GraphQL over aiohttp on 127.0.0.1, state in memory, repos on disk.

    Knobs (attributes): latency (seconds added to every call), check_responses (answers are
    checked against the OpenAPI subset; one outside it is a 500 and lands in schema_errors),
    content_writes_per_minute (None; e.g. 80 gives secondary limits on write bursts),
    enforce_rate_limit (False; rate_limit_total a hour per installation is always reported in
    x-ratelimit-* headers), and GitHubState's token_lifetime, max_patch_chars,
    require_start_side, contents_too_large_403.
    Log: requests [LoggedRequest] and calls Counter["POST /repos/{owner}/{repo}/check-runs"]
    (one GraphQL query is one request, however many objects it reads), request_count,
    in_flight / max_in_flight, max_writes_in_flight, schema_errors, internal_errors (the fake
    crashed: the traceback, answered 500).
    """

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
        GitHubState.__init__(
            self,
            workdir,
            app_id=app_id,
            slug=slug,
            key=key,
            token_lifetime=token_lifetime,
            max_patch_chars=max_patch_chars,
        )
        FaultInjection.__init__(self)
        self.latency = latency
        self.check_responses = check_responses
        self.content_writes_per_minute: int | None = None  # e.g. 80: secondary limit on POST/PATCH bursts
        self._write_times: list[float] = []
        self.enforce_rate_limit = False
        self.openapi = openapi or OpenAPISubset.load()

        self.requests: list[LoggedRequest] = []
        self.calls: Counter[str] = Counter()
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.writes_in_flight = 0
        self.max_writes_in_flight = 0
        self.schema_errors: list[str] = []
        self.internal_errors: list[str] = []

        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._usage: dict[str, tuple[float, int]] = {}
        self.routes = routes()

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
        # The web pages of the manifest flow (form posts, not JSON): before the API's catch-all.
        for page in ("/settings/apps/new", "/organizations/{org}/settings/apps/new"):
            app.router.add_post(page, self._new_app_form)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def _new_app_form(self, request: web.Request) -> web.StreamResponse:
        return await new_app_form(self, request)

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

    def requests_to(self, method: str, route: str) -> list[LoggedRequest]:
        """Logged requests to one endpoint, e.g. ("POST", "/repos/{owner}/{repo}/check-runs")."""
        return [r for r in self.requests if r.method == method.upper() and r.route == route]

    def failures(self) -> list[LoggedRequest]:
        """Logged requests answered with a status >= 400."""
        return [r for r in self.requests if r.status >= 400]

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
        path, prefix = _unprefixed(request.path)
        route: Route | None = None
        body: JSONValue = None
        auth = "none"
        lose: Fault | None = None
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            parsed, body = _json_body(await request.read())
            lose = self._take_lost_answer(method, path)
            hold = next((h for h in self.holds if h.matches(method, path)), None)
            if hold is not None:
                self.holds.remove(hold)
            fault = self._take_fault(method, path) or self._random_fault(path)
            matched = match(self.routes, method, path)
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
        except Exception as exc:  # a bug in the fake: make it loud
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

    def _take_lost_answer(self, method: str, path: str) -> Fault | None:
        """The lost-answer fault this request triggers, if any (counted down as it is used)."""
        lose = next((f for f in self.lost_answers if f.remaining > 0 and f.matches(method, path)), None)
        if lose is not None:
            lose.remaining -= 1
            if lose.remaining == 0:
                self.lost_answers.remove(lose)
        return lose

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
        if route.auth == "none":  # the manifest conversion: the code is the credential
            return await self._handle(route, ctx), "none"
        if route.auth == "jwt":
            problem = check_jwt(self, ctx.request)
            if problem is not None:
                return problem, "jwt-invalid"
            rate, _ = self._rate_headers("app", "core")
            reply = await self._handle(route, ctx)
            reply.headers = {**rate, **reply.headers}
            return reply, "jwt"
        found = check_token(self, ctx.request)
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
            repo = self.find_repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
            denied = access(self, found, repo, write=route.method != "GET")
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
        reply = await route.handler(self, ctx)
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


def _unprefixed(path: str) -> tuple[str, str]:
    """The route path without GHES's /api/v3 (or /api/graphql), and the prefix it had."""
    if path == "/api/graphql":
        return "/graphql", GHES_PREFIX
    if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
        return path[len(GHES_PREFIX) :] or "/", GHES_PREFIX
    return path, ""


def _json_body(raw: bytes) -> tuple[bool, JSONValue]:
    """Whether the body parses as JSON (an empty one does), and its value."""
    if not raw.strip():
        return True, None
    try:
        return True, json.loads(raw)
    except ValueError:
        return False, None

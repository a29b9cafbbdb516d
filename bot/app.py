"""The aiohttp web app: verifies and acknowledges webhooks, queues jobs, reports health."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from gidgethub import ValidationFailure, sansio

from bot import handlers, job
from bot.auth import TokenCache
from bot.config import AppSettings
from bot.observability import CONTENT_TYPE, Metrics, Redactor
from bot.github import Counters, GitHubError, InstallationClient, RetryPolicy
from bot.queue import DeliveryLog, Job, JobQueue, MemoryQueue, QueueClosed

log = logging.getLogger(__name__)


@dataclass
class State:
    """What lives as long as the app: one HTTP session, the token cache, the queue."""

    settings: AppSettings
    queue: JobQueue
    deliveries: DeliveryLog = field(default_factory=DeliveryLog)
    session: aiohttp.ClientSession | None = None
    tokens: TokenCache | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    counters: Counters = field(default_factory=Counters)
    redactor: Redactor = field(default_factory=Redactor)
    metrics: Metrics | None = None
    accepted: int = 0

    def client(self, installation_id: int) -> InstallationClient:
        assert self.session is not None and self.tokens is not None
        return InstallationClient(
            self.session, self.tokens, installation_id, self.settings.api_url, self.settings.graphql_url,
            self.retry, int(self.settings.app_id), self.counters,
        )

    async def fetch_token(self, installation_id: int, app_jwt: str) -> tuple[str, str]:
        assert self.session is not None
        url = f"{self.settings.api_url}/app/installations/{installation_id}/access_tokens"
        headers = {"Authorization": f"Bearer {app_jwt}", "Accept": "application/vnd.github+json", "User-Agent": "unroot-app"}
        try:
            async with self.session.post(url, headers=headers) as response:
                body = await response.json(content_type=None)
                if response.status != 201:
                    message = body.get("message", "") if isinstance(body, dict) else ""
                    raise GitHubError(f"installation token for {installation_id}: {response.status} {message}", response.status)
                return str(body["token"]), str(body["expires_at"])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise GitHubError(f"installation token for {installation_id}: {type(error).__name__} {error}") from None

    async def abandon(self, work: Job) -> None:
        await job.interrupted(self.client(work.installation_id), work)

    async def run_job(self, work: Job, is_current: Callable[[], bool]) -> None:
        context = {"delivery": work.delivery_id, "repo": work.repo, "pr": work.pr_number, "sha": work.head_sha}
        log.info("job started", extra=context)
        started = time.monotonic()
        outcome_name = "error"
        try:
            outcome = await job.run(work, self.client(work.installation_id), is_current, self.settings.docs_url)
            outcome_name = outcome.conclusion
            log.info(
                "job done", extra={**context, "conclusion": outcome.conclusion, "findings": outcome.findings, "review": outcome.review_posted}
            )
        except asyncio.CancelledError:
            outcome_name = "interrupted"
            raise
        finally:
            if self.metrics is not None:
                self.metrics.jobs.labels(outcome_name).inc()
                self.metrics.job_seconds.observe(time.monotonic() - started)


STATE = web.AppKey("state", State)


def _json(http_status: int, **body: object) -> web.Response:
    return web.json_response(body, status=http_status)


async def webhook(request: web.Request) -> web.Response:
    """Verify, deduplicate, turn into jobs and acknowledge; the work happens in the queue."""
    state = request.app[STATE]
    response = await _answer(request, state)
    if state.metrics is not None:
        state.metrics.deliveries.labels(request.headers.get("X-GitHub-Event", "unknown"), str(response.status)).inc()
    return response


async def _answer(request: web.Request, state: State) -> web.Response:
    body = await request.read()
    if state.settings.webhook_secret:
        signature = request.headers.get("X-Hub-Signature-256")
        if not signature:
            return _json(401, error="missing X-Hub-Signature-256")
        try:
            sansio.validate_event(body, signature=signature, secret=state.settings.webhook_secret)
        except ValidationFailure:
            return _json(401, error="bad signature")
    event_name = request.headers.get("X-GitHub-Event")
    delivery_id = request.headers.get("X-GitHub-Delivery")
    if not event_name or not delivery_id:
        return _json(400, error="missing X-GitHub-Event or X-GitHub-Delivery")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _json(400, error="body is not JSON")
    if event_name == "ping":
        return _json(200, msg="pong")
    if not state.deliveries.first_time(delivery_id):
        return _json(200, status="duplicate delivery", delivery=delivery_id)
    submitted: list[bool] = []

    def submit(work: Job) -> bool:
        submitted.append(state.queue.submit(work))
        return submitted[-1]

    try:
        event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
        await handlers.router.dispatch(event, submit, int(state.settings.app_id))
    except QueueClosed:
        state.deliveries.forget(delivery_id)  # let GitHub's redelivery through once we are back
        return _json(503, error="shutting down; redeliver later")
    except (KeyError, TypeError, ValueError) as error:
        log.warning("delivery %s (%s) not understood: %r", delivery_id, event_name, error)
        return _json(400, error=f"payload not understood: {error!r}")
    state.accepted += 1
    return _json(202, queued=sum(submitted), event=event_name, delivery=delivery_id)


async def healthz(request: web.Request) -> web.Response:
    """Readiness and queue depth."""
    state = request.app[STATE]
    ready = state.session is not None and not state.session.closed
    return _json(
        200 if ready else 503, status="ok" if ready else "starting", queue_depth=state.queue.depth(),
        running=state.queue.running(), insecure=not state.settings.webhook_secret,
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    state = request.app[STATE]
    assert state.metrics is not None
    return web.Response(body=state.metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def make_app(settings: AppSettings, queue: JobQueue | None = None) -> web.Application:
    """Build the app; nothing starts until aiohttp runs it (sessions and workers in cleanup_ctx)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    state = State(settings, queue or MemoryQueue(settings.workers))
    state.retry = RetryPolicy(secondary_floor=settings.secondary_limit_floor)
    state.metrics = Metrics(state.counters, state.queue.depth, state.queue.running)
    for secret in (settings.webhook_secret, settings.private_key):
        state.redactor.add(secret)
    if not settings.webhook_secret:
        log.warning("INSECURE: webhook signatures are NOT verified (--insecure-no-secret); anyone can trigger jobs")
    app[STATE] = state

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=30, connect=10)
        state.session = aiohttp.ClientSession(timeout=timeout)
        state.tokens = TokenCache(settings.app_id, settings.private_key, state.fetch_token, on_token=state.redactor.add)
        state.tokens.app_jwt()  # load the key and the crypto backend now, not during the first webhook
        await state.queue.start(state.run_job)
        yield
        # SIGTERM: aiohttp has stopped listening; running jobs get the grace period, the rest
        # have their check runs completed as interrupted, with a Re-run button.
        await state.queue.drain(settings.shutdown_grace, state.abandon)
        await state.session.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app

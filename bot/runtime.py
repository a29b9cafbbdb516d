"""What a process needs to run jobs: one HTTP session, tokens, retries, metrics and the analysis pool."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from bot import job
from bot.analysis import AnalysisPool, Limits
from bot.auth import TokenCache
from bot.chart_review import RendererFactory
from bot.config import AppSettings
from bot.github import Counters, InstallationClient, RetryPolicy, create_installation_token
from bot.observability import Metrics, Redactor
from bot.queue import IsCurrent, Job, JobQueue, MemoryQueue, RetryLater, RetryLaterPolicy
from rules.helm.render import Renderer

log = logging.getLogger(__name__)


def make_queue(settings: AppSettings, run_jobs: bool) -> JobQueue:
    """The in-process queue, or Redis when REDIS_URL is set (jobs run here only when `run_jobs`)."""
    retry = RetryLaterPolicy(first=settings.retry_delay, cap=max(settings.retry_delay, 600.0), total=settings.retry_for)
    if not settings.redis_url:
        return MemoryQueue(settings.workers, retry)
    from bot.redisqueue import RedisQueue  # arq only for a process that uses Redis

    return RedisQueue(
        settings.redis_url,
        run_jobs=run_jobs,
        workers=settings.workers,
        installation_limit=settings.installation_jobs,
        lease=settings.lease_seconds,
        attempts=settings.job_attempts,
        job_timeout=settings.job_timeout,
        connect_wait=settings.redis_wait,
        retry=retry,
    )


class Runtime:
    """The composition root of a process that runs jobs: the web app and `unroot worker` each have one."""

    def __init__(self, settings: AppSettings, queue: JobQueue) -> None:
        self.settings = settings
        self.queue = queue
        self.session: aiohttp.ClientSession | None = None
        self.tokens: TokenCache | None = None
        self.retry = RetryPolicy(secondary_floor=settings.secondary_limit_floor)
        self.counters = Counters()
        self.redactor = Redactor()
        self.metrics = Metrics(self.counters)
        self.analysis = AnalysisPool(
            settings.analysis_workers, Limits(settings.analysis_cpu_seconds, settings.analysis_memory_mb * 1024**2)
        )
        # Each job that reviews a chart gets its own Helm child with these limits (tests swap the factory).
        self.make_renderer: RendererFactory = self._helm_renderer
        for secret in (settings.webhook_secret, settings.private_key, *queue.credentials()):
            self.redactor.add(secret)

    async def open(self) -> None:
        """The queue's backend first (a process that cannot reach Redis exits saying so), then the
        HTTP session, the token cache (shared through the queue's backend when it has one) and the workers."""
        await self.queue.connect()
        timeout = aiohttp.ClientTimeout(total=30, connect=10)
        self.session = aiohttp.ClientSession(timeout=timeout)
        self.tokens = TokenCache(
            str(self.settings.app_id),
            self.settings.private_key,
            self._fetch_token,
            on_token=self.redactor.add,
            store=self.queue.token_store(self.settings.private_key),
        )
        self.tokens.app_jwt()  # load the key and the crypto backend now, not during the first webhook
        await self.queue.start(self.run_job, self.give_up)

    async def close(self) -> None:
        """Drain the queue (running jobs get the grace period) and close the session."""
        await self.queue.drain(self.settings.shutdown_grace, self.abandon)
        await self.analysis.close()
        if self.session is not None:
            await self.session.close()

    def client(self, installation_id: int) -> InstallationClient:
        """A client for one installation, sharing this process's session, tokens and counters."""
        assert self.session is not None and self.tokens is not None
        return InstallationClient(
            self.session,
            self.tokens,
            installation_id,
            self.settings.api_url,
            self.settings.graphql_url,
            retry=self.retry,
            app_id=self.settings.app_id,
            counters=self.counters,
        )

    def _helm_renderer(self) -> Renderer:
        from bot.helm import renderer  # Helm's SDK is loaded in the renderer's child, and only for charts

        return renderer(self.settings.helm_limits)

    async def _fetch_token(self, installation_id: int, app_jwt: str) -> tuple[str, str]:
        assert self.session is not None
        return await create_installation_token(self.session, self.settings.api_url, installation_id, app_jwt)

    async def abandon(self, work: Job) -> None:
        """A queued job that never started before shutdown: its run is completed as interrupted."""
        await job.complete_as_interrupted(self.client(work.installation_id), work)

    async def give_up(self, work: Job, reason: str) -> None:
        """A job that cannot be finished: its run is completed as failed, with a Re-run button."""
        await job.give_up(self.client(work.installation_id), work, reason)
        self.metrics.jobs.labels("gave_up").inc()

    async def run_job(self, work: Job, is_current: IsCurrent) -> None:
        """Run one job for the queue, with its log lines and metrics."""
        context = {"delivery": work.delivery_id, "repo": work.repo, "pr": work.pr_number, "sha": work.head_sha}
        log.info("job started", extra=context)
        started = time.monotonic()
        outcome_name = "error"
        try:
            outcome = await job.run(
                work,
                self.client(work.installation_id),
                is_current,
                self.settings.docs_url,
                requeued_on_cancel=self.queue.requeues_on_cancel,
                analyse=self.analysis.analyse,
                resubmit=self.queue.submit,
                make_renderer=self.make_renderer,
            )
            outcome_name = outcome.conclusion
            log.info(
                "job done",
                extra={
                    **context,
                    "conclusion": outcome.conclusion,
                    "findings": outcome.findings,
                    "review": outcome.review_posted,
                },
            )
        except asyncio.CancelledError:
            outcome_name = "interrupted"
            raise
        except RetryLater:
            outcome_name = "retry_later"
            raise
        finally:
            self.metrics.jobs.labels(outcome_name).inc()
            self.metrics.job_seconds.observe(time.monotonic() - started)

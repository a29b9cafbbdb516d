"""The job queue: one job per (repository, head SHA), newer pushes supersede older ones.

`MemoryQueue` is the embedded default; `bot.redisqueue.RedisQueue` takes its place behind
`JobQueue` when REDIS_URL is set.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.auth import TokenStore

log = logging.getLogger(__name__)


class QueueClosed(RuntimeError):
    """The queue is draining for shutdown; deliveries must be refused so GitHub can redeliver."""


class RetryLater(RuntimeError):
    """A job could not get its check run completed (GitHub unreachable, failing or limiting us):
    the queue keeps it and runs it again after a delay, so no commit is left without a run."""


@dataclass(frozen=True)
class RetryLaterPolicy:
    """When a job that raised RetryLater runs again: `first` seconds, doubling up to `cap`, for at
    most `total` seconds from its first failure (then it is given up and logged)."""

    first: float = 30.0
    cap: float = 600.0
    total: float = 24 * 3600.0

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (0-based), jittered so retries do not bunch."""
        return float(min(self.cap, self.first * 2.0**attempt)) * (0.75 + random.random() / 2)


class QueueUnavailable(RuntimeError):
    """The queue's backend (Redis) cannot be reached at start-up; the message says where and why."""


JobKind = Literal["pull_request", "push"]


@dataclass(frozen=True)
class Job:
    """What one delivery asks for: analyse `head_sha` of `repo` and publish the result."""

    kind: JobKind  # a re-run is one of these again
    installation_id: int
    repo: str  # owner/name
    head_sha: str
    delivery_id: str
    default_branch: str
    pr_number: int | None = None
    base_sha: str | None = None  # push: the commit before; None for a new branch
    ref: str | None = None  # push: refs/heads/<branch>
    changed_files: int | None = None  # pull_request: how many files the PR changes (page count)
    received: float = 0.0  # when the delivery reached us (epoch s): orders a lane across web processes

    @property
    def key(self) -> tuple[str, str]:
        """Identity for deduplication: the same commit of the same repository."""
        return (self.repo, self.head_sha)

    @property
    def lane(self) -> tuple[str, str]:
        """Jobs in one lane supersede each other: the same pull request or branch."""
        if self.pr_number is not None:
            return (self.repo, f"pr:{self.pr_number}")
        return (self.repo, f"ref:{self.ref or self.head_sha}")


IsCurrent = Callable[[], Awaitable[bool]]
Handler = Callable[[Job, IsCurrent], Awaitable[None]]
GiveUp = Callable[[Job, str], Awaitable[None]]


@dataclass(frozen=True)
class QueueStats:
    """What /healthz and /metrics show of a queue."""

    depth: int  # jobs waiting to start
    running: int  # jobs being worked on
    backend: str = "memory"


class JobQueue(Protocol):
    """What the web app and the worker need from a queue, capabilities included (no caller asks which queue it is)."""

    # Whether a job cut short by shutdown stays queued for another worker (Redis), or is over (in memory).
    requeues_on_cancel: bool
    worker_restarts: int  # times the worker loop ended on its own and was started again

    @property
    def worker_up(self) -> bool | None:
        """Whether this process's worker loop runs; None when there is no loop to lose."""

    def credentials(self) -> list[str]:
        """Secrets in the queue's configuration, for the log redactor."""

    def token_store(self, private_key: str) -> TokenStore | None:
        """Where installation tokens are shared between processes, if anywhere."""

    def deliveries(self) -> Deliveries:
        """The delivery log that tells redeliveries from first deliveries."""

    async def connect(self) -> None:
        """Reach the backend; raises QueueUnavailable saying why it cannot."""

    async def submit(self, job: Job) -> bool:
        """Queue a job; False when the same commit is already queued or running."""

    async def stats(self) -> QueueStats:
        """Depth and running jobs (raises when the backend cannot be reached)."""

    async def start(self, handler: Handler, give_up: GiveUp | None = None) -> None:
        """Start the workers (`give_up` completes the run of a job that cannot be finished)."""

    async def stop(self) -> None:
        """Stop the workers (running jobs are cancelled)."""

    async def drain(self, grace: float, abandoned: Callable[[Job], Awaitable[None]]) -> None:
        """Take no more jobs, let running ones finish for `grace` seconds, then cancel them; queued
        jobs that never started are handed to `abandoned`."""


@dataclass
class _Slot:
    job: Job
    current: bool = True
    done: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryQueue:
    """An asyncio queue with bounded concurrency, deduplication and supersession."""

    def __init__(self, workers: int = 4, retry: RetryLaterPolicy | None = None) -> None:
        self._workers = workers
        self.retry = retry or RetryLaterPolicy()
        self._failing: dict[tuple[str, str], tuple[int, float]] = {}  # key -> (retries so far, first failure)
        self._timers: set[asyncio.TimerHandle] = set()
        self._ready: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._pending: dict[tuple[str, str], Job] = {}  # lane -> newest job not yet started
        self._running: dict[tuple[str, str], _Slot] = {}  # key -> slot
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._waiting = 0  # taken from the queue, waiting for the same commit's job to end
        self.superseded = 0
        self._deliveries = DeliveryLog()

    requeues_on_cancel = False  # a job cut short by shutdown is over: its run is completed as interrupted
    worker_restarts = 0
    worker_up = None  # no worker loop to lose: the workers are this process's own tasks

    def credentials(self) -> list[str]:
        return []

    def token_store(self, private_key: str) -> None:
        return None  # one process: the token cache in memory is all there is

    def deliveries(self) -> DeliveryLog:
        return self._deliveries

    async def connect(self) -> None:
        return None  # nothing to reach

    async def submit(self, job: Job) -> bool:
        if self._closed:
            raise QueueClosed("shutting down")
        for queued_lane, waiting in list(self._pending.items()):
            if waiting.key == job.key:
                if job.kind != "pull_request" or waiting.kind == "pull_request":
                    return False
                # The review needs the PR job: it replaces the queued push job of the same commit
                # and takes its place in the PR's own lane (so later pushes to the PR supersede it).
                del self._pending[queued_lane]
                break
        if job.key in self._running and not (
            job.kind == "pull_request" and self._running[job.key].job.kind != "pull_request"
        ):
            return False
        previous = self._pending.get(job.lane)
        if previous is not None:
            self.superseded += 1
            log.info("superseded queued job", extra={"repo": job.repo, "sha": previous.head_sha})
        else:
            self._ready.put_nowait(job.lane)
        self._pending[job.lane] = job
        for slot in self._running.values():
            if slot.job.lane == job.lane and slot.job.head_sha != job.head_sha and slot.current:
                slot.current = False  # the running job must not publish a stale review
                self.superseded += 1
        return True

    def depth(self) -> int:
        """Jobs waiting to start."""
        return len(self._pending)

    def running(self) -> int:
        """Jobs being worked on (or waiting for the same commit's job)."""
        return len(self._running) + self._waiting

    async def stats(self) -> QueueStats:
        return QueueStats(self.depth(), self.running())

    async def start(self, handler: Handler, give_up: GiveUp | None = None) -> None:
        for index in range(self._workers):
            self._tasks.append(asyncio.create_task(self._work(handler), name=f"unroot-worker-{index}"))

    async def drain(self, grace: float, abandoned: Callable[[Job], Awaitable[None]]) -> None:
        self._closed = True
        for timer in self._timers:
            timer.cancel()  # jobs waiting for GitHub to come back: gone with the process (logged)
        if self._timers:
            log.error("stopping with %d jobs waiting to retry; their commits may have no check run", len(self._timers))
        self._timers.clear()
        waiting = list(self._pending.values())
        self._pending.clear()
        deadline = asyncio.get_running_loop().time() + grace
        while (self._running or self._waiting) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await self.stop()  # cancels what is still running: each job marks its run interrupted
        results = await asyncio.gather(*(abandoned(job) for job in waiting), return_exceptions=True)
        for job, result in zip(waiting, results):
            if isinstance(result, BaseException):
                log.error("could not mark %s %s interrupted: %r", job.repo, job.head_sha, result)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def join(self) -> None:
        """Wait until nothing is queued or running (tests and benchmarks)."""
        while self._pending or self._running or self._waiting or self._timers:
            await asyncio.sleep(0.005)

    async def _work(self, handler: Handler) -> None:
        while True:
            lane = await self._ready.get()
            job = self._pending.pop(lane, None)
            if job is None:
                continue
            self._waiting += 1
            try:
                while job.key in self._running:
                    # The same commit is being worked on (a push job, say): wait, so the two never
                    # race to create the commit's check run; this job then finds and reuses it.
                    await self._running[job.key].done.wait()
            finally:
                self._waiting -= 1
            slot = _Slot(job)
            self._running[job.key] = slot

            async def is_current(slot: _Slot = slot) -> bool:
                return slot.current

            try:
                await handler(job, is_current)
                self._failing.pop(job.key, None)
            except asyncio.CancelledError:
                raise
            except RetryLater as later:
                self._retry_later(job, str(later))
            except Exception:  # the handler completes its own check run; never kill the worker
                log.exception("job failed", extra={"repo": job.repo, "sha": job.head_sha, "delivery": job.delivery_id})
            finally:
                if self._running.get(job.key) is slot:
                    del self._running[job.key]
                slot.done.set()

    def _retry_later(self, job: Job, reason: str) -> None:
        """Run the job again after the policy's delay; it no longer competes with its lane (a
        newer head does not supersede it: it may own a run in progress that must be completed)."""
        tries, since = self._failing.get(job.key, (0, time.monotonic()))
        if time.monotonic() - since > self.retry.total:
            self._failing.pop(job.key, None)
            log.error("giving up on %s %s after %d retries: %s", job.repo, job.head_sha, tries, reason)
            return
        self._failing[job.key] = (tries + 1, since)
        delay = self.retry.delay(tries)
        log.warning("job for %s %s will be retried in %.0f s: %s", job.repo, job.head_sha, delay, reason)

        def requeue() -> None:
            self._timers.discard(timer)
            if self._closed:
                return
            lane = ("retry:" + job.repo, job.head_sha)
            if lane not in self._pending:
                self._ready.put_nowait(lane)
            self._pending[lane] = job

        timer = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(timer)


class Deliveries(Protocol):
    """Delivery ids already taken: a redelivery of the same event runs once."""

    async def first_time(self, delivery_id: str) -> bool:
        """True the first time an id is seen (and remembers it)."""

    async def forget(self, delivery_id: str) -> None:
        """Forget an id whose delivery could not be taken, so a redelivery is accepted."""


@dataclass
class DeliveryLog:
    """Recently seen `X-GitHub-Delivery` ids, in this process only."""

    capacity: int = 10_000
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    async def forget(self, delivery_id: str) -> None:
        self._seen.pop(delivery_id, None)

    async def first_time(self, delivery_id: str) -> bool:
        """True the first time an id is seen (and remembers it)."""
        if delivery_id in self._seen:
            self._seen.move_to_end(delivery_id)
            return False
        self._seen[delivery_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

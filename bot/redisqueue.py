"""The Redis-backed job queue (arq): web and worker processes share deliveries, jobs, tokens and limits.

arq keeps the jobs: a sorted set of job ids and one key per job, an in-progress key while a
worker has it, and a job that is still in the set when its worker dies is taken again by
another. On top of it, in Redis too:

- `unroot:delivery:<id>` (SET NX, 3 days): a delivery is taken once by any web process.
- `unroot:lane:<repo>:<lane>` holds the newest head SHA of a pull request or branch: a job
  that is not the newest when it starts is dropped, and one that stops being newest while it
  runs does not post its review.
- `unroot:commit:<repo>@<sha>`: one job per commit at a time, so two never race to create the
  commit's check run (the second finds and reuses it).
- `unroot:installation:<id>`: leases of running jobs per installation; past the limit a job goes
  back to the queue for a moment, so one busy organisation cannot fill every worker or trip
  GitHub's secondary limits.
- Leases, the commit lock and arq's in-progress key all expire after `lease` seconds unless the
  worker renews them: a SIGKILLed worker's job is taken again within that time.
- `unroot:attempts:<job>`: attempts cut short; past the limit the job completes its check run
  as failed, with a Re-run button, instead of killing workers forever.
- `unroot:started:<job>`: the job began once, so it may own an in-progress check run: it is
  never dropped as superseded, it runs again to complete that run (without a review).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from typing import Any, TypeVar, cast

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.worker import Retry, Worker, func
from redis.exceptions import RedisError

from bot.auth import RedisTokenStore
from bot.queue import GiveUp, Handler, Job, QueueClosed, QueueStats, QueueUnavailable, RetryLater, RetryLaterPolicy

log = logging.getLogger(__name__)

QUEUE_NAME = "unroot:queue"
FUNCTION = "unroot_job"
RUNNING = "unroot:running"  # sorted set: "<job id>|<worker>" -> lease expiry (ms)
STATS = "unroot:stats"  # hash of fleet-wide counters
STARTED_PREFIX = "unroot:started:"  # a job that began once may own an in-progress check run
DELIVERY_TTL = 3 * 24 * 3600  # GitHub redelivers (by hand or API) deliveries of the past 3 days
LANE_TTL = 7 * 24 * 3600
PR_MARK_TTL = 24 * 3600
ATTEMPTS_TTL = 24 * 3600
JOB_EXPIRES = 24 * 3600  # arq drops a job that has waited this long
REDIS_TIMEOUT = 5.0  # seconds for one Redis command; a hung Redis must not hang a delivery
RESTART_BACKOFF = (0.5, 10.0)  # seconds: first wait before a new worker loop, and the cap (doubling, jittered)

# KEYS: commit lock, installation leases, running set. ARGV: owner, lease ms, now ms, limit, running member.
# Returns 0 (acquired), 1 (the commit is busy), 2 (the installation is at its limit).
_ACQUIRE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  return 2
end
local expiry = tonumber(ARGV[3]) + tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[3])
redis.call('ZADD', KEYS[3], expiry, ARGV[5])
return 0
"""

# KEYS: commit lock, installation leases, running set, arq's in-progress key. ARGV: owner, lease ms,
# now ms, running member. Returns 1 when the commit lock was lost (it expired and was taken).
_RENEW = """
local expiry = tonumber(ARGV[3]) + tonumber(ARGV[2])
local lost = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  lost = 1
end
redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', expiry, ARGV[4])
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('PEXPIRE', KEYS[4], ARGV[2])
end
return lost
"""

# KEYS: commit lock, installation leases, running set. ARGV: owner, running member.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[2])
return 0
"""


# KEYS: lane, pull-request mark. ARGV: sha, lane ttl, job id prefix ("<repo>@"), job id suffix
# (":pr7"), PR number or "", mark ttl, queue, arq in-progress prefix, arq job prefix, stats hash,
# started prefix, received (ms). A delivery received before the lane's newest one (two web
# processes can finish deliveries out of order) changes nothing: returns 2. Otherwise moves the lane to this SHA and drops the lane's previous job if it is waiting
# and never started (a started one may own an in-progress check run that it must complete):
# superseded work never takes a worker slot. Returns 1 when a job was dropped.
_SUBMIT = """
local stored = redis.call('GET', KEYS[1])
local previous, order = stored, 0
if stored then
  local bar = string.find(stored, '|', 1, true)
  if bar then
    previous, order = string.sub(stored, 1, bar - 1), tonumber(string.sub(stored, bar + 1)) or 0
  end
end
if previous and previous ~= ARGV[1] and order > tonumber(ARGV[12]) then
  redis.call('HINCRBY', ARGV[10], 'superseded', 1)
  return 2
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[12], 'EX', ARGV[2])
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[6])
end
if previous and previous ~= ARGV[1] then
  local old = ARGV[3] .. previous .. ARGV[4]
  local untouched = redis.call('EXISTS', ARGV[8] .. old) == 0 and redis.call('EXISTS', ARGV[11] .. old) == 0
  if untouched and redis.call('ZREM', ARGV[7], old) == 1 then
    redis.call('DEL', ARGV[9] .. old)
    redis.call('HINCRBY', ARGV[10], 'superseded', 1)
    return 1
  end
end
return 0
"""


# ARGV: queue, arq's in-progress prefix, lease ms. arq marks a job it takes in progress for its
# whole timeout (16 min); our heartbeat cuts that to the lease only once the job has begun. A
# worker that lost Redis (or was killed) in between leaves the job held for those 16 min: cut any
# such mark to the lease (a live job renews it anyway). Returns how many were cut.
_UNSTRAND = """
local cut = 0
for _, id in ipairs(redis.call('ZRANGE', ARGV[1], 0, -1)) do
  local key = ARGV[2] .. id
  if redis.call('PTTL', key) > tonumber(ARGV[3]) then
    redis.call('PEXPIRE', key, ARGV[3])
    cut = cut + 1
  end
end
return cut
"""


JOB_FIELDS = frozenset(field.name for field in fields(Job))


def _suffix(job: Job) -> str:
    return f":pr{job.pr_number}" if job.pr_number is not None else ":push"


def job_id(job: Job) -> str:
    """arq's job id: one per (repository, commit, pull request or push)."""
    return f"{job.repo}@{job.head_sha}{_suffix(job)}"


def lane_key(job: Job) -> str:
    return f"unroot:lane:{job.repo}:{job.lane[1]}"


def commit_key(job: Job) -> str:
    return f"unroot:commit:{job.repo}@{job.head_sha}"


def pr_mark_key(job: Job) -> str:
    return f"unroot:pr-job:{job.repo}@{job.head_sha}"


def installation_key(installation_id: int) -> str:
    return f"unroot:installation:{installation_id}"


def _dumps(value: Any) -> bytes:
    # JSON, not arq's default pickle: whoever can write to Redis must not be able to run code here.
    return json.dumps(value, default=repr).encode("utf-8")


def _loads(data: bytes) -> Any:
    return json.loads(data)


def connect(url: str) -> ArqRedis:
    """A Redis client for arq and for our keys (redis://, rediss://, unix://; every redis-py URL option)."""
    client: ArqRedis = ArqRedis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        health_check_interval=30,
    )
    client.job_serializer = _dumps
    client.job_deserializer = _loads
    client.default_queue_name = QUEUE_NAME
    client.expires_extra_ms = JOB_EXPIRES * 1000
    return client


T = TypeVar("T")


async def _done(result: Awaitable[T] | T) -> T:
    """redis-py types its commands as sync-or-async; on the asyncio client they are awaitable."""
    return await cast(Awaitable[T], result)


def _now_ms() -> int:
    return int(time.time() * 1000)


class RedisQueue:
    """`JobQueue` on Redis. Web processes only submit; with `run_jobs` this process also runs jobs
    (an arq worker on the same connection): `unroot worker`, or `unroot serve --run-jobs`."""

    def __init__(
        self,
        url: str,
        *,
        run_jobs: bool,
        workers: int = 4,
        installation_limit: int = 8,
        lease: float = 30.0,
        attempts: int = 3,
        job_timeout: float = 900.0,
        poll_delay: float = 0.05,
        name: str | None = None,
        connect_wait: float = 30.0,
        retry: RetryLaterPolicy | None = None,
    ) -> None:
        self.connect_wait = connect_wait
        self.retry = retry or RetryLaterPolicy()
        self.give_up_retry = (10.0, 30.0)  # seconds before failing a run is tried again
        self.url = url
        self.run_jobs = run_jobs
        self.workers = workers
        self.installation_limit = installation_limit
        self.lease = lease
        self.attempts = attempts
        self.job_timeout = job_timeout
        self.poll_delay = poll_delay
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.restart_backoff = RESTART_BACKOFF
        self.worker_restarts = 0  # times arq's worker loop ended on its own and a new one was started
        self._redis: ArqRedis | None = None
        self._workers: dict[
            Worker, ArqRedis
        ] = {}  # every worker whose connection is open (ended ones finish their jobs)
        self._supervisor: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._worker_up: bool | None = None
        self._handler: Handler | None = None
        self._give_up: GiveUp | None = None
        self._closed = False

    @property
    def redis(self) -> ArqRedis:
        if self._redis is None:
            raise RuntimeError("RedisQueue.connect() has not been awaited")
        return self._redis

    requeues_on_cancel = True  # a job cut short stays queued for another worker

    def credentials(self) -> list[str]:
        """The password in the Redis URL, for the log redactor."""
        return url_secrets(self.url)

    def token_store(self, private_key: str) -> RedisTokenStore:
        """Installation tokens shared by the fleet through Redis, encrypted with the App's key."""
        return RedisTokenStore(self.redis, private_key)

    def deliveries(self) -> RedisQueue:
        """The fleet's shared delivery log: this queue (first_time and forget on Redis)."""
        return self

    async def connect(self) -> None:
        """Connect, waiting up to `connect_wait` seconds for Redis (it may start after us); raises with the reason."""
        if self._redis is not None:
            return
        self._redis = connect(self.url)
        deadline = time.monotonic() + self.connect_wait
        while True:
            try:
                await self._redis.ping()
                return
            except (RedisError, OSError) as error:
                if time.monotonic() >= deadline:
                    raise QueueUnavailable(f"cannot reach Redis at {_safe_url(self.url)}: {error}") from None
                log.warning("waiting for Redis at %s: %s", _safe_url(self.url), error)
                await asyncio.sleep(1.0)

    # ------------------------------------------------------------------ the web side

    async def submit(self, job: Job) -> bool:
        """Make `job` the newest of its lane and queue it (False: that job is already queued or running)."""
        if self._closed:
            raise QueueClosed("shutting down")
        # The lane first: a worker that takes the job before this is written would drop it as stale.
        received_ms = int((job.received or time.time()) * 1000)
        outcome = await _done(
            self.redis.eval(
                _SUBMIT,
                2,
                lane_key(job),
                pr_mark_key(job),
                job.head_sha,
                str(LANE_TTL),
                f"{job.repo}@",
                _suffix(job),
                str(job.pr_number) if job.pr_number is not None else "",
                str(PR_MARK_TTL),
                QUEUE_NAME,
                in_progress_key_prefix,
                job_key_prefix,
                STATS,
                STARTED_PREFIX,
                str(received_ms),
            )
        )
        if int(outcome) == 2:
            log.info(
                "stale delivery: a newer head of this lane was received first",
                extra={"repo": job.repo, "sha": job.head_sha},
            )
            return False
        queued = await self.redis.enqueue_job(FUNCTION, asdict(job), _job_id=job_id(job), _expires=JOB_EXPIRES)
        return queued is not None

    async def stats(self) -> QueueStats:
        now = _now_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(QUEUE_NAME)
            pipe.zcount(RUNNING, now, "+inf")
            queued, running = await pipe.execute()
        return QueueStats(depth=max(0, int(queued) - int(running)), running=int(running), backend="redis")

    async def first_time(self, delivery_id: str) -> bool:
        """The shared delivery log (`Deliveries`): True for the first process to see the id."""
        return bool(await self.redis.set(f"unroot:delivery:{delivery_id}", b"1", nx=True, ex=DELIVERY_TTL))

    async def forget(self, delivery_id: str) -> None:
        await self.redis.delete(f"unroot:delivery:{delivery_id}")

    async def counters(self) -> dict[str, int]:
        """Fleet-wide counters (jobs by outcome, superseded, deferred, ...)."""
        raw = await _done(self.redis.hgetall(STATS))
        return {key.decode(): int(value) for key, value in raw.items()}

    # ------------------------------------------------------------------ the worker side

    @property
    def worker_up(self) -> bool | None:
        """True while arq's worker loop runs, False while a new one is being started, None when this process runs no jobs."""
        return self._worker_up

    async def start(self, handler: Handler, give_up: GiveUp | None = None) -> None:
        """Connect, and start the (supervised) arq worker when this process runs jobs."""
        await self.connect()
        if not self.run_jobs:
            return
        self._handler, self._give_up = handler, give_up
        logging.getLogger("arq").setLevel(logging.WARNING)  # a line per job and per deferral is noise at INFO
        self._worker_up = True
        self._supervisor = asyncio.create_task(self._supervise(), name="unroot-arq-supervisor")
        self._sweeper = asyncio.create_task(self._sweep(), name="unroot-stranded-sweeper")

    def _new_worker(self, redis: ArqRedis) -> Worker:
        worker = Worker(
            functions=[func(self._run, name=FUNCTION, max_tries=1_000_000)],  # attempts are counted by us
            queue_name=QUEUE_NAME,
            redis_pool=redis,
            handle_signals=False,  # the process's own shutdown calls drain()
            max_jobs=self.workers,
            job_timeout=self.job_timeout + 60,  # a backstop: _attempt's own timeout completes the run
            keep_result=0,
            poll_delay=self.poll_delay,
            health_check_interval=60,
            retry_jobs=True,
            job_serializer=_dumps,
            job_deserializer=_loads,
            expires_extra_ms=JOB_EXPIRES * 1000,
            log_results=False,
            on_startup=self._worker_started,
        )
        worker.allow_pick_jobs = not self._closed
        return worker

    async def _worker_started(self, ctx: dict[str, Any]) -> None:
        """arq's on_startup: Redis answered the new loop, which now polls for jobs (first freeing
        jobs that a worker which lost Redis had just taken)."""
        self._worker_up = True
        await self._free_stranded()

    async def _free_stranded(self) -> None:
        """Cut arq's in-progress marks that no lease keeps alive down to the lease. arq marks a job
        it picks for job_timeout + 60 s; a worker killed after the pick but before our lease would
        otherwise keep the job from every other worker for that long (a lease, once taken, renews
        the mark, so running jobs are not touched)."""
        try:
            cut = int(
                await _done(
                    self.redis.eval(_UNSTRAND, 0, QUEUE_NAME, in_progress_key_prefix, str(int(self.lease * 1000)))
                )
            )
        except (RedisError, OSError) as error:
            log.warning("could not look for jobs held by a lost worker: %s", error)
            return
        if cut:
            log.warning(
                "%d jobs were held by a worker that lost Redis or died; they run again within %g s", cut, self.lease
            )

    async def _sweep(self) -> None:
        """Every lease, free the jobs a dead worker had picked (see _free_stranded)."""
        while True:
            await asyncio.sleep(self.lease)
            await self._free_stranded()

    async def _supervise(self) -> None:
        """Run arq's worker loop, and when it ends for any reason but our stop (arq ends it on the first
        Redis error: a Redis restart would stop this worker for good), start a new worker on a fresh
        connection after a jittered backoff that doubles while the new loops keep failing."""
        delay = self.restart_backoff[0]
        while True:
            redis = connect(self.url)
            worker = self._new_worker(redis)
            self._workers[worker] = redis
            try:
                await worker.async_run()
                ended = "it returned"
            except Exception as error:  # whatever ended it, jobs need a running loop
                ended = repr(error)
            self._retire(worker)
            if self._closed:
                return
            if self._worker_up:  # the loop had started since the last restart: begin the backoff anew
                delay = self.restart_backoff[0]
            self._worker_up = False
            wait = random.uniform(delay / 2, delay)
            log.error("arq's worker loop ended (%s); starting a new one in %.1f s", ended, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.restart_backoff[1])
            self.worker_restarts += 1

    def _retire(self, worker: Worker) -> None:
        """An ended loop's running jobs go on (arq records their end on its connection); then it closes."""

        async def retire() -> None:
            await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
            redis = self._workers.pop(worker, None)
            if redis is not None:
                await self._quietly(redis.aclose())

        task = asyncio.create_task(retire(), name="unroot-arq-retire")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _job_tasks(self) -> list[asyncio.Task[Any]]:
        return [task for worker in self._workers for task in worker.tasks.values()]

    async def drain(self, grace: float, abandoned: Callable[[Job], Awaitable[None]]) -> None:
        """Take no more deliveries or jobs; running jobs get `grace` seconds, then are cancelled and
        stay in Redis for another worker (nothing is abandoned: queued jobs wait for any worker)."""
        self._closed = True
        if self._supervisor is not None:
            for worker in self._workers:
                worker.allow_pick_jobs = False
            deadline = time.monotonic() + grace
            while any(not t.done() for t in self._job_tasks()) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await self.stop()
        if self._redis is not None:
            await self._redis.aclose()

    async def stop(self) -> None:
        """Cancel running jobs (arq puts them back in the queue) and stop the worker."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is None:
            return
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            await _cancel_for_sure(sweeper)
        running = self._job_tasks()
        for task in running:
            task.cancel()
        await _cancel_for_sure(supervisor)
        await asyncio.gather(*running, return_exceptions=True)
        await asyncio.gather(*self._retiring, return_exceptions=True)
        for redis in self._workers.values():
            await self._quietly(redis.aclose())
        self._workers.clear()
        self._worker_up = None

    async def _run(self, ctx: dict[str, Any], payload: dict[str, Any]) -> str:
        """arq's entry point for one job; returns what happened (for arq's log)."""
        # Fields a newer or older release added are ignored (rolling deploys mix versions).
        job = Job(**{name: value for name, value in payload.items() if name in JOB_FIELDS})
        try:
            return await self._attempt(job, str(ctx["job_id"]))
        except (RedisError, OSError) as error:
            # Redis went away between steps: the job is still in arq's set; try again shortly.
            log.warning("Redis error around job %s: %s; retrying", job_id(job), error)
            raise Retry(defer=random.uniform(1.0, 3.0)) from None

    async def _attempt(self, job: Job, arq_id: str) -> str:
        redis = self.redis
        started_key = STARTED_PREFIX + arq_id
        # A job that began before (its worker died or stopped) may have created the commit's check
        # run: it always runs again, to complete that run (superseded, it posts no review).
        if not await redis.exists(started_key):
            if await self._lane_head(job) != job.head_sha:
                await _done(redis.hincrby(STATS, "superseded", 1))
                return "superseded"
            if job.pr_number is None and await redis.exists(pr_mark_key(job)):
                # A pull request job for this commit publishes the check run (and the review).
                await _done(redis.hincrby(STATS, "covered_by_pr", 1))
                return "covered by a pull request job"
        owner = uuid.uuid4().hex
        member = f"{arq_id}|{self.name}"
        lease_ms = int(self.lease * 1000)
        keys = (commit_key(job), installation_key(job.installation_id), RUNNING)
        got = int(
            await _done(
                redis.eval(
                    _ACQUIRE, 3, *keys, owner, str(lease_ms), str(_now_ms()), str(self.installation_limit), member
                )
            )
        )
        if got:
            # Back to the queue for a moment: the worker slot goes to another installation meanwhile.
            await _done(redis.hincrby(STATS, "deferred_commit" if got == 1 else "deferred_installation", 1))
            raise Retry(defer=random.uniform(0.3, 1.0) if got == 1 else random.uniform(0.5, 1.5))
        heartbeat = asyncio.create_task(self._renew(keys, owner, member, arq_id, lease_ms))
        attempts_key = f"unroot:attempts:{arq_id}"
        finished = False
        try:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(started_key, b"1", ex=ATTEMPTS_TTL)
                pipe.incr(attempts_key)
                pipe.expire(attempts_key, ATTEMPTS_TTL)
                _, attempt, _ = await pipe.execute()
            if int(attempt) > self.attempts:
                reason = f"{int(attempt) - 1} attempts were cut short (a worker died or lost Redis mid-job)"
                log.error("giving up on %s: %s", arq_id, reason, extra={"repo": job.repo, "sha": job.head_sha})
                await self._complete_as_failed(job, reason)
                await _done(redis.hincrby(STATS, "gave_up", 1))
                finished = True
                return "gave up"
            assert self._handler is not None
            try:
                async with asyncio.timeout(self.job_timeout):
                    await self._handler(job, self._is_current(job))
            except RetryLater as later:
                # GitHub is down or refusing: not the worker's fault, so not an attempt cut short.
                # The started marker stays: the job may own a run in progress that it must complete.
                await _done(redis.decr(attempts_key))
                return await self._later(job, arq_id, str(later))
            except TimeoutError:
                await self._complete_as_failed(job, f"the job took longer than {self.job_timeout:g} s")
                await _done(redis.hincrby(STATS, "timed_out", 1))
                finished = True
                return "timed out"
            finished = True
            await _done(redis.hincrby(STATS, "completed", 1))
            return "done"
        except asyncio.CancelledError:
            # A graceful stop is not the job's fault: it does not count as an attempt.
            await asyncio.shield(self._quietly(redis.decr(attempts_key)))
            raise
        finally:
            heartbeat.cancel()
            if finished:
                await asyncio.shield(self._quietly(redis.delete(attempts_key, started_key)))
            await asyncio.shield(self._quietly(_done(redis.eval(_RELEASE, 3, *keys, owner, member))))

    async def _later(self, job: Job, arq_id: str, reason: str) -> str:
        """Put the job back for a retry after the policy's delay, or give it up past its total time."""
        key = f"unroot:later:{arq_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.set(key + ":since", str(time.time()), nx=True, ex=int(self.retry.total) + 3600)
            pipe.get(key + ":since")
            pipe.expire(key, int(self.retry.total) + 3600)
            tries, _, since, _ = await pipe.execute()
        if time.time() - float(since or time.time()) > self.retry.total:
            log.error("giving up on %s after %d retries: %s", arq_id, int(tries), reason)
            await _done(self.redis.hincrby(STATS, "gave_up_github", 1))
            return "gave up: GitHub kept failing"
        delay = self.retry.delay(int(tries) - 1)
        log.warning("job %s will be retried in %.0f s: %s", arq_id, delay, reason)
        await _done(self.redis.hincrby(STATS, "retry_later", 1))
        raise Retry(defer=delay)

    async def _lane_head(self, job: Job) -> str:
        """The newest head SHA submitted to the job's lane ("<sha>|<received ms>" in Redis)."""
        return (await self.redis.get(lane_key(job)) or b"").decode().split("|", 1)[0]

    async def _complete_as_failed(self, job: Job, reason: str) -> None:
        """Fail the commit's check run with a Re-run button; if GitHub cannot be reached for
        that either, the job goes back to the queue to try again later (never stuck in progress)."""
        if self._give_up is None:
            return
        try:
            await self._give_up(job, reason)
        except Exception as error:  # whatever GitHub answered, try again later
            log.warning("could not fail the check run of %s: %r; retrying later", job_id(job), error)
            raise Retry(defer=random.uniform(*self.give_up_retry)) from None

    def _is_current(self, job: Job) -> Callable[[], Awaitable[bool]]:
        async def is_current() -> bool:
            return await self._lane_head(job) == job.head_sha

        return is_current

    async def _renew(self, keys: tuple[str, str, str], owner: str, member: str, arq_id: str, lease_ms: int) -> None:
        """Keep this job's leases (and arq's in-progress key) alive while it runs."""
        progress_key = in_progress_key_prefix + arq_id
        while True:
            try:
                lost = await _done(
                    self.redis.eval(_RENEW, 4, *keys, progress_key, owner, str(lease_ms), str(_now_ms()), member)
                )
                if lost:
                    log.warning("the commit lock of %s expired and was taken by another worker", arq_id)
            except (RedisError, OSError) as error:
                log.warning("could not renew the lease of %s: %s", arq_id, error)
            await asyncio.sleep(lease_ms / 3000)

    @staticmethod
    async def _quietly(operation: Awaitable[Any]) -> None:
        try:
            await operation
        except (RedisError, OSError) as error:
            log.warning("Redis clean-up failed (the keys expire on their own): %s", error)


async def _cancel_for_sure(task: asyncio.Task[None], tries: int = 40) -> None:
    """Cancel arq's worker loop and wait for it to end. On Python 3.11 a cancel that lands while
    its `poll()` async generator is between sleeps can be lost (seen here: the loop then waits
    forever in its next sleep), so the cancel is repeated until the task is done."""
    for _ in range(tries):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=0.25)
        if done:
            return
    log.error("arq's worker loop did not stop after %d cancels", tries)


def _safe_url(url: str) -> str:
    """The URL without its password (`user:password@` or a `password=` query field), for messages."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{key}=***"
        if key.lower() in ("password", "pass", "pwd", "username", "user")
        else f"{key}={value}"
        if value or "=" in pair
        else key
        for pair in parts.query.split("&")
        if pair
        for key, _, value in [pair.partition("=")]
    )
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def url_secrets(url: str) -> list[str]:
    """The passwords a Redis URL carries (for the log redactor)."""
    parts = urllib.parse.urlsplit(url)
    found = [parts.password or ""]
    found += [value for key, value in urllib.parse.parse_qsl(parts.query) if key.lower() in ("password", "pass", "pwd")]
    return [secret for secret in found if secret]

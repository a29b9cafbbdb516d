"""Analysis off the event loop: child processes with a CPU, memory and time limit per file.

The App analyses other people's files. An analyser bug that loops or blows up on one of them
must cost that file a notice, not the server its acknowledgements, health checks and lease
renewals. So every file is analysed in a worker process; a file that uses up its CPU time
(the kernel kills the worker with SIGXCPU), its memory (MemoryError) or its wall time (the
workers are killed) gets a UR001 notice, and the pool is replaced.

When a worker dies, every file it was working on fails with it, including innocent ones
analysed side by side. Those are analysed again one at a time in a pool of their own, so the
file that kills a worker is the only one that gets the notice.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from rules.analyze import skipped
from rules.model import Finding, Options

log = logging.getLogger(__name__)
Analyse = Callable[[str, bytes, Options], list[Finding]]
DEFAULT_FUNCTION = "rules.analyze:analyze_bytes"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    """What one file may cost. A real 1 MB manifest takes about a second of CPU and 150 MB."""

    cpu_seconds: int = 30
    memory_bytes: int = 1024**3
    wall_seconds: float = 120.0


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the server dies (even by SIGKILL); an orphaned
    pool worker would otherwise wait on its pipe for ever."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the pool's own shutdown still stops the workers
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


def _limit_worker(memory_bytes: int) -> None:
    """Pool initializer: the worker dies with the server, its address space is capped, and it
    never dumps core."""
    _die_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the server's to handle


def _analyse_in_worker(
    function: str, cpu_seconds: int, path: str, data: bytes, options: Options
) -> list[Finding] | str:
    """Runs in the worker: this file gets `cpu_seconds` more CPU than the worker has used so far."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    module, _, name = function.partition(":")
    analyse: Analyse = getattr(importlib.import_module(module), name)
    try:
        return analyse(path, data, options)
    except MemoryError:
        return "memory"


class AnalysisPool:
    """Analyses files in worker processes under `Limits`; one per process, for its whole life."""

    def __init__(self, workers: int = 2, limits: Limits | None = None, function: str = DEFAULT_FUNCTION) -> None:
        self.workers = max(1, workers)
        self.limits = limits or Limits()
        self.function = function  # "module:name"; tests put a deliberately slow analyser here
        self._shared: ProcessPoolExecutor | None = None
        self._alone: ProcessPoolExecutor | None = None
        self._alone_lock = asyncio.Lock()
        self.replaced = 0  # pools killed and replaced (for tests and logs)

    def _pool(self, alone: bool) -> ProcessPoolExecutor:
        current = self._alone if alone else self._shared
        if current is None:
            # spawn: a fresh interpreter, never a fork of a process with an event loop and threads.
            current = ProcessPoolExecutor(
                max_workers=1 if alone else self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_worker,
                initargs=(self.limits.memory_bytes,),
            )
            if alone:
                self._alone = current
            else:
                self._shared = current
        return current

    async def analyse(self, path: str, data: bytes, options: Options) -> list[Finding]:
        """The file's findings, or one notice saying which limit it ran into."""
        try:
            return self._result(path, await self._run(path, data, options, alone=False))
        except BrokenProcessPool:
            pass  # a worker died: maybe because of this file, maybe because of a neighbour's
        except TimeoutError:
            return [skipped(path, f"analysis took longer than {self.limits.wall_seconds:g} s and was stopped")]
        async with self._alone_lock:  # one at a time, so a death is this file's own
            try:
                return self._result(path, await self._run(path, data, options, alone=True))
            except BrokenProcessPool:
                log.warning("analysis of %s killed its worker (CPU or memory limit)", path)
                return [
                    skipped(
                        path,
                        f"analysis used more than its {self.limits.cpu_seconds} s of CPU or "
                        f"{self.limits.memory_bytes // 1024**2} MB of memory and was stopped",
                    )
                ]
            except TimeoutError:
                return [skipped(path, f"analysis took longer than {self.limits.wall_seconds:g} s and was stopped")]

    def _result(self, path: str, outcome: list[Finding] | str) -> list[Finding]:
        if isinstance(outcome, str):
            return [skipped(path, f"analysis needed more than {self.limits.memory_bytes // 1024**2} MB of memory")]
        return outcome

    async def _run(self, path: str, data: bytes, options: Options, alone: bool) -> list[Finding] | str:
        pool = self._pool(alone)
        future = asyncio.get_running_loop().run_in_executor(
            pool, _analyse_in_worker, self.function, self.limits.cpu_seconds, path, data, options
        )
        try:
            return await asyncio.wait_for(future, self.limits.wall_seconds)
        except BrokenProcessPool:
            self._replace(pool)
            raise
        except TimeoutError:
            self._replace(pool)  # a worker cannot be stopped alone: the pool goes, its files retry
            raise

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        """Kill a pool's workers and forget it; the next file starts a new one."""
        if pool is self._shared:
            self._shared = None
        elif pool is self._alone:
            self._alone = None
        else:
            return  # already replaced by a neighbour's failure
        self.replaced += 1
        _kill(pool)

    async def close(self) -> None:
        """Stop the workers (files still being analysed fail; the server is stopping)."""
        for pool in (self._shared, self._alone):
            if pool is not None:
                _kill(pool)
        self._shared = self._alone = None


def _kill(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())  # the executor offers no per-worker kill
    for process in processes:
        if process.pid is not None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    pool.shutdown(wait=False, cancel_futures=True)

"""The parent's side of a Helm child: start it, send renders, enforce the wall clock, replace it when it dies."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.helm import wire
from bot.helm.backends import cpu_exceeded
from bot.helm.chartdir import identity
from bot.helm.failures import from_crash
from bot.helm.limits import HelmLimits
from rules.helm.render import ChartSource, Rendered, RenderFailure, RenderRequest

SDK = "sdk"
BINARY = "binary"
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the `bot` and `rules` packages
_STDERR_READ = 16384  # bytes of a dead child's stderr read for Go's "fatal error:" line
_STOP_GRACE = 2.0  # seconds a child told to stop (stdin closed) gets before it is killed


class ChildGone(Exception):
    """The child closed its stdout (it died) or did not answer in time (`timed_out`)."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "exited")
        self.timed_out = timed_out


def child_environment(home: Path) -> dict[str, str]:
    """Only what the child needs: none of the caller's KUBECONFIG, HELM_*, tokens or proxies.

    Helm's home, cache, config and data all point into the child's private directory, so no repository
    configuration, registry login or plugin of the machine's user is ever read."""
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(_SOURCE_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "GOTRACEBACK": "none",  # a Go fatal error prints its one line, not every goroutine's stack
    }
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "HELM_CACHE_HOME", "HELM_CONFIG_HOME"):
        environment[variable] = str(home / variable.lower())
    environment["HELM_DATA_HOME"] = str(home / "helm_data_home")
    return environment


class _Child:
    """One running child: its process, private directory, stderr file and what it has been sent."""

    def __init__(self, backend: str, limits: HelmLimits, helm_binary: str | None) -> None:
        self.workdir = tempfile.TemporaryDirectory(prefix="unroot-helm-")
        home = Path(self.workdir.name)
        self.stderr_path = home / "stderr"
        self.known: set[str] = set()  # chart identities this child has been sent
        self._buffer = b""
        command = [sys.executable, "-s", "-m", "bot.helm.child", "--backend", backend, "--workdir", str(home)]
        command += ["--address-space-mb", str(limits.address_space_mb), "--cpu-seconds", str(limits.cpu_seconds)]
        command += ["--output-mb", str(limits.output_mb)]
        if helm_binary is not None:
            command += ["--helm", helm_binary]
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=child_environment(home),
                cwd=home,
                start_new_session=True,  # its own process group: a kill takes helm subprocesses with it
                bufsize=0,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_size(self) -> int:
        return self.stderr_path.stat().st_size

    def stderr_from(self, offset: int) -> str:
        """What the child wrote to stderr since `offset` (the start of the render that killed it)."""
        with open(self.stderr_path, "rb") as stderr:
            stderr.seek(offset)
            return stderr.read(_STDERR_READ).decode("utf-8", "replace")

    def send(self, line: bytes) -> None:
        """Write one request line; a child that died meanwhile shows up as ChildGone."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(line)
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise ChildGone(timed_out=False) from error

    def receive(self, timeout: float, limit_bytes: int) -> dict[str, Any]:
        """The next reply line, waiting at most `timeout` seconds."""
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise ChildGone(timed_out=True)
                chunk = os.read(stdout.fileno(), 1 << 20)
                if not chunk:
                    raise ChildGone(timed_out=False)
                self._buffer += chunk
                if len(self._buffer) > limit_bytes:  # the child checks this too; a broken one must not flood us
                    raise ChildGone(timed_out=False)
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stop(self, grace: float = 0.0) -> int:
        """End the child (after `grace` seconds to exit by itself) and its process group; its exit code.

        Its directory stays until cleanup(): a dead child's stderr is read first."""
        if grace and self.process.stdin is not None:
            self.process.stdin.close()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group is already gone
        code = self.process.wait()
        _await_group_end(self.process.pid)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        return code

    def cleanup(self) -> None:
        """Remove the child's directory: its charts, Helm's home, its stderr."""
        self.workdir.cleanup()


def _await_group_end(group: int, bound: float = _STOP_GRACE) -> None:
    """Wait (briefly) until no process of the child's group is left: a `helm` it ran dies of the same
    SIGKILL, but asynchronously, and is reaped by init rather than by us."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


class ChildRenderer:
    """Renders in a child process that is kept between renders and replaced when a render kills it."""

    def __init__(self, backend: str, limits: HelmLimits | None = None, helm_binary: str | None = None) -> None:
        self.backend = backend
        self.limits = limits or HelmLimits()
        self._helm_binary = helm_binary
        self._child: _Child | None = None
        self._lock = threading.Lock()  # one render at a time per child: the protocol is a single line each way

    @property
    def child_pid(self) -> int | None:
        """The running child's process id, None when no child runs."""
        return None if self._child is None else self._child.pid

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        """`chart` rendered with `request` in the child; a failure of any kind is a Rendered, never raised."""
        with self._lock:
            child = self._child
            if child is None:
                child, failure = self._start()
                if failure is not None:
                    return failure
            return self._render_in(child, chart, request)

    def close(self) -> None:
        """Stop the child, if one runs; the renderer starts a new one if used again."""
        with self._lock:
            if self._child is not None:
                self._child.stop(grace=_STOP_GRACE)
                self._child.cleanup()
                self._child = None

    def __enter__(self) -> ChildRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self) -> tuple[_Child, Rendered | None]:
        child = _Child(self.backend, self.limits, self._helm_binary)
        try:
            child.receive(self.limits.start_seconds, _STDERR_READ)
        except ChildGone as gone:
            failure = self._death(child, 0, gone)
            reason = "took too long" if gone.timed_out else failure.message
            kind = RenderFailure.RESOURCES if failure.failure is RenderFailure.RESOURCES else RenderFailure.UNAVAILABLE
            return child, Rendered(failure=kind, message=f"Helm could not start: {reason}")
        self._child = child
        return child, None

    def _render_in(self, child: _Child, chart: ChartSource, request: RenderRequest) -> Rendered:
        chart_id = identity(chart.files)
        offset = child.stderr_size()
        try:
            reply = self._exchange(child, chart_id, None if chart_id in child.known else chart, request)
            if reply["status"] == wire.NEED_FILES:
                reply = self._exchange(child, chart_id, chart, request)
        except ChildGone as gone:
            self._child = None
            return self._death(child, offset, gone)
        child.known.add(chart_id)
        return wire.parse_reply(reply)

    def _exchange(
        self, child: _Child, chart_id: str, chart: ChartSource | None, request: RenderRequest
    ) -> dict[str, Any]:
        child.send(wire.request_line(chart_id, None if chart is None else chart.files, request))
        return child.receive(self.limits.wall_seconds, 2 * self.limits.output_mb * 2**20 + 2**20)

    def _death(self, child: _Child, offset: int, gone: ChildGone) -> Rendered:
        """Stop the child that stopped answering and say why, as a failure with one short line."""
        code = child.stop()
        try:
            return self._why(child, offset, code, gone)
        finally:
            child.cleanup()

    def _why(self, child: _Child, offset: int, code: int, gone: ChildGone) -> Rendered:
        limits = self.limits
        if gone.timed_out:
            return Rendered(
                failure=RenderFailure.TIMEOUT, message=f"took longer than {limits.wall_seconds:g} s and was stopped"
            )
        if code == -signal.SIGXCPU:
            return Rendered(failure=RenderFailure.RESOURCES, message=cpu_exceeded(limits.cpu_seconds))
        kind, message = from_crash(child.stderr_from(offset), limits.address_space_mb)
        return Rendered(failure=kind, message=message)

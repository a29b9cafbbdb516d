"""Probe a real `unroot serve` process as an attacker would, and report what it answered.

    python -m tools.probe_webhooks [--repo DIR] [--slowloris 400] [--big 16]

(from the repository root: the cases and the test key come from the tests package)

Starts `python -m bot` (the server) from DIR (default: this checkout; point it at an older checkout
to compare), with GitHub unreachable (only the webhook is probed), then:
1. sends every case of tests/hostile_webhooks.py (about 570) and counts answers by status,
   listing every 500 and every answer a case does not allow;
2. sends 16 bodies of 25 MB with a bad signature at once and reports the server's peak RSS;
3. opens 400 slowloris connections (a header byte every second) and counts those still open
   after 15 s;
4. sends 3,000 deliveries with made-up event names and counts the metric series;
then checks /healthz. Exit 1 when any case got a 500 or an answer it does not allow.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.hostile_webhooks import cases, signature

ROOT = Path(__file__).resolve().parent.parent

SECRET = "probe-secret"
APP_ID = 4242


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _start(repo: Path, port: int) -> subprocess.Popen[bytes]:
    from tests.fakegithub import shared_app_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "UNROOT_", "REDIS_"))}
    env.update(
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_PRIVATE_KEY=shared_app_key().private_pem,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL=f"http://127.0.0.1:{_free_port()}",
        HOST="127.0.0.1",
        PORT=str(port),
        PYTHONPATH=str(repo),
        LOG_LEVEL="CRITICAL",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not become ready")


async def _post(session: aiohttp.ClientSession, base: str, event: str, body: bytes, headers: dict[str, str]) -> int:
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": f"p-{time.monotonic_ns()}",
        "Content-Type": "application/json",
        **headers,
    }
    try:
        async with session.post(f"{base}/webhook", data=body, headers=sent) as response:
            await response.read()
            return response.status
    except aiohttp.ClientError:
        return -1  # connection closed without an answer


async def _cases(base: str) -> tuple[collections.Counter[int], list[str]]:
    counts: collections.Counter[int] = collections.Counter()
    wrong: list[str] = []
    async with aiohttp.ClientSession() as session:
        for case in cases(SECRET, APP_ID):
            headers = ({"X-Hub-Signature-256": signature(SECRET, case.body)} if case.sign else {}) | case.headers
            status = await _post(session, base, case.event, case.body, headers)
            counts[status] += 1
            if status not in case.allowed:
                wrong.append(f"{case.name}: {status}")
    return counts, wrong


async def _big_bodies(base: str, pid: int, count: int) -> tuple[float, float]:
    before = _rss_mb(pid)
    peak = before
    body = b" " * (25 * 1024 * 1024 - 1024)

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            *(_post(session, base, "push", body, {"X-Hub-Signature-256": "sha256=" + "0" * 64}) for _ in range(count))
        )
    await asyncio.sleep(0.3)
    watcher.cancel()
    return before, peak


async def _slowloris(port: int, count: int, after: float) -> int:
    streams = []
    for _ in range(count):
        try:
            streams.append(await asyncio.open_connection("127.0.0.1", port))
        except OSError:
            break
    for _, writer in streams:
        writer.write(b"POST /webhook HTTP/1.1\r\n")
    began = time.monotonic()
    line = 0
    while time.monotonic() - began < after:
        line += 1
        for _, writer in streams:
            if not writer.is_closing():
                try:
                    writer.write(b"X-%d: y\r\n" % line)
                except (ConnectionError, RuntimeError):
                    pass
        await asyncio.sleep(1.0)
    open_count = 0
    for reader, writer in streams:
        try:
            data = await asyncio.wait_for(reader.read(1), 0.05)
            open_count += data != b""
        except TimeoutError:
            open_count += 1
        except ConnectionError:
            pass
        writer.close()
    return open_count


async def _metric_series(base: str, count: int) -> int:
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(_post(session, base, f"made-up-{n}", b"{}", {}) for n in range(count)))
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
    return sum(1 for line in text.splitlines() if line.startswith("unroot_deliveries_total"))


async def probe(repo: Path, slowloris: int, big: int) -> int:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(repo, port)
    try:
        await _wait_ready(base)
        counts, wrong = await _cases(base)
        print(f"hostile cases: {sum(counts.values())}; answers by status: {dict(sorted(counts.items()))}")
        for line in wrong:
            print(f"  not allowed: {line}")
        before, peak = await _big_bodies(base, process.pid, big)
        print(
            f"{big} x 25 MB bodies with a bad signature at once: RSS {before:.0f} -> peak {peak:.0f} MB ({peak / before:.2f}x)"
        )
        still = await _slowloris(port, slowloris, 15.0)
        print(f"slowloris: {still} of {slowloris} connections still open after 15 s")
        series = await _metric_series(base, 3000)
        print(f"3,000 deliveries with made-up event names: {series} unroot_deliveries_total series")
        async with aiohttp.ClientSession() as session:
            began = time.monotonic()
            async with session.get(f"{base}/healthz") as response:
                print(f"/healthz at the end: {response.status} in {1000 * (time.monotonic() - began):.1f} ms")
        return 1 if counts.get(500) or wrong else 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose `bot` to start (default: this one)")
    parser.add_argument("--slowloris", type=int, default=400)
    parser.add_argument("--big", type=int, default=16)
    options = parser.parse_args()
    return asyncio.run(probe(options.repo.resolve(), options.slowloris, options.big))


if __name__ == "__main__":
    sys.exit(main())

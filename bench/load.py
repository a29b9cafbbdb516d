"""Reliability under load: signed webhooks at a steady rate into the App (its own process) against a slow, faulty fake GitHub."""

# From the repository root (the fake GitHub is imported as tests.fakegithub):
# python -m bench.load [--deliveries 1000 --rate 200 --repos 50 --latency 0.05 --fault-502 0.05
#                       --fault-secondary 0.01 --seed 1 --strict]
# python -m bench.load --redis --worker-procs 1,2,4 [--servers 2 --kill-worker-after 2]
#   On Redis: a redis-server, --servers `unroot serve` processes (deliveries go round-robin) and
#   `unroot worker` processes; one run per worker count, the same load each time, then a table of
#   jobs per second and the scaling ratio against the first count. --kill-worker-after S SIGKILLs
#   one worker S seconds into the sending. --redis-restart-at S stops redis-server S seconds into
#   the sending for --redis-down seconds (3) and starts it again on its append-only file: the
#   heads it accepted must still all get a completed check run.
# The fake GitHub (tests/fakegithub/) runs on a thread of this process; the App runs as
# `python -m bot` in its own process on 127.0.0.1 (--app-root picks the checkout). Every commit
# and every signed delivery is prepared first; then the deliveries go out open-loop at --rate
# (bounded by --send-limit seconds), each PR's head moving in the fake just before its
# synchronize is sent. Afterwards it waits (at most --drain-timeout) for /healthz to show an
# empty queue and nothing running and for no check run to be in progress, then reads the
# fake's state, the App's log and /proc/<pid>/status, and prints figures and PASS/FAIL lines.

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # the only address this load test ever sends to
SECRET = "load-bench-secret"
CHECK_NAME = "unroot"
MAX_DELIVERIES = 20_000
MAX_RATE = 2_000.0
ACK_P99_TARGET_MS = 50.0
STALE_MARGIN_S = 2.0
REPOS_PER_INSTALLATION = 10
MANIFESTS = ("Dockerfile", "services/api/Dockerfile", "k8s/web.yaml", "k8s/worker.yaml")
DOCS = ("README.md", "docs/notes.md")
if TYPE_CHECKING:
    from tests.fakegithub import FakeGitHub as Fake

CLEAN_DOCKERFILE = "FROM alpine:3.19\nRUN apk add --no-cache curl\n# revision {rev}\nUSER 10001\n"
ROOT_DOCKERFILE = 'FROM alpine:3.19\n# revision {rev}\nUSER root\nCMD ["sh"]\n'
NO_USER_DOCKERFILE = "FROM alpine:3.19\nRUN apk add --no-cache curl\n# revision {rev}\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  annotations: {{revision: "{rev}"}}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
{pod}      containers:
      - name: {name}
        image: example/{name}:1.{rev}
{container}"""
CLEAN_POD = """\
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
"""
CLEAN_CONTAINER = """\
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
"""
ROOT_CONTAINER = "        securityContext:\n          runAsUser: 0\n"
PRIVILEGED_CONTAINER = "        securityContext:\n          privileged: true\n"


# ----------------------------------------------------------------------------- generated content


def render(path: str, bad: bool, rev: int, rng: random.Random) -> str:
    """A manifest or Dockerfile at PATH: clean, or with a root finding when BAD."""
    if path.endswith("Dockerfile"):
        template = rng.choice((ROOT_DOCKERFILE, NO_USER_DOCKERFILE)) if bad else CLEAN_DOCKERFILE
        return template.format(rev=rev)
    name = Path(path).stem
    if not bad:
        return DEPLOYMENT.format(name=name, rev=rev, pod=CLEAN_POD, container=CLEAN_CONTAINER)
    return DEPLOYMENT.format(
        name=name, rev=rev, pod="", container=rng.choice((ROOT_CONTAINER, PRIVILEGED_CONTAINER, ""))
    )


def base_files() -> dict[str, str]:
    """What every repository starts with on main: clean manifests and docs."""
    rng = random.Random(0)
    files = {path: render(path, False, 0, rng) for path in MANIFESTS}
    files.update({path: "# docs\n\nrevision 0\n" for path in DOCS})
    return files


def change(rng: random.Random, rev: int) -> tuple[dict[str, str], dict[str, bool]]:
    """One commit's files and, per manifest written, whether it has a finding: a commit with
    findings, a clean one, or a docs-only one."""
    variant = rng.choices(("finding", "clean", "docs"), weights=(0.4, 0.35, 0.25))[0]
    if variant == "docs":
        return {rng.choice(DOCS): f"# docs\n\nrevision {rev}\n"}, {}
    paths = rng.sample(MANIFESTS, k=rng.choice((1, 1, 2, 3)))
    bad_index = rng.randrange(len(paths)) if variant == "finding" else -1
    files: dict[str, str] = {}
    bad: dict[str, bool] = {}
    for index, path in enumerate(paths):
        files[path] = render(path, index == bad_index, rev, rng)
        bad[path] = index == bad_index
    if rng.random() < 0.3:
        files["README.md"] = f"# docs\n\nrevision {rev}\n"
    return files, bad


# ----------------------------------------------------------------------------- the plan


@dataclass
class Step:
    """One thing that happens on GitHub and the deliveries it causes (before SHAs are known)."""

    kind: str  # "opened", "synchronize", "push-main", "redelivery"
    repo: str = ""
    pr: int = 0
    files: dict[str, str] = field(default_factory=dict)
    bad: dict[str, bool] = field(default_factory=dict)  # manifests written: with a finding or not
    paired_push: bool = False  # a synchronize whose branch push is delivered too (same SHA)
    original: int = -1  # redelivery: index of the step whose first delivery is repeated
    sha: str = ""
    before: str = ""


@dataclass
class Delivery:
    """One webhook delivery, signed and ready to send."""

    kind: str  # "opened", "synchronize", "push-main", "push-branch", "redelivery"
    event: str
    delivery_id: str
    body: bytes
    repo: str
    sha: str
    pr: int = 0
    paired: bool = False  # a synchronize that follows a push of the same SHA

    def headers(self) -> dict[str, str]:
        return {
            "X-GitHub-Event": self.event,
            "X-GitHub-Delivery": self.delivery_id,
            "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), self.body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/load-bench",
        }


@dataclass
class Plan:
    """Repositories, steps and what the end state must look like."""

    repos: list[str]
    steps: list[Step]
    deliveries: list[Delivery] = field(default_factory=list)
    pr_findings: dict[tuple[str, int], bool] = field(default_factory=dict)  # final head has findings
    commits: int = 0


def installation_of(repo_index: int) -> int:
    return 1 + repo_index // REPOS_PER_INSTALLATION


def repo_name(repo_index: int) -> str:
    return f"org{installation_of(repo_index)}/svc{repo_index:03}"


def make_steps(deliveries: int, repos: int, rng: random.Random, branch_pushes: float = 0.35) -> list[Step]:
    """A seeded event mix adding up to DELIVERIES deliveries."""
    names = [repo_name(i) for i in range(repos)]
    prs_in: Counter[str] = Counter()
    open_prs: list[tuple[str, int]] = []
    steps: list[Step] = []
    count = 0
    rev = 0
    first_deliveries: list[int] = []  # step indexes that can be redelivered
    while count < deliveries:
        rev += 1
        kind = rng.choices(("opened", "synchronize", "push-main", "redelivery"), weights=(0.28, 0.40, 0.14, 0.08))[0]
        if kind == "redelivery" and len(first_deliveries) < 10:
            kind = "opened"
        if kind == "synchronize" and not open_prs:
            kind = "opened"
        if kind == "redelivery":
            original = rng.choice(first_deliveries[:-5])  # sent a while ago, not the previous few
            steps.append(Step("redelivery", original=original))
            count += 1
            continue
        if kind == "synchronize":
            repo, number = rng.choice(open_prs[-40:])  # recent PRs: their earlier head is often still queued
            paired = rng.random() < branch_pushes and count + 2 <= deliveries
            files, bad = change(rng, rev)
            steps.append(Step("synchronize", repo, number, files, bad, paired_push=paired))
            count += 2 if paired else 1
        elif kind == "opened":
            repo = rng.choice(names)
            prs_in[repo] += 1
            open_prs.append((repo, prs_in[repo]))
            files, bad = change(rng, rev)
            steps.append(Step("opened", repo, prs_in[repo], files, bad))
            count += 1
        else:
            steps.append(Step("push-main", rng.choice(names), files=change(rng, rev)[0]))
            count += 1
        first_deliveries.append(len(steps) - 1)
    return steps


def commit_repo(fake: Fake, repo: str, steps: Sequence[Step]) -> int:
    """Make the git commits of one repository's steps, in order; fills in SHAs."""
    git = fake.repo(repo).git
    initial = git.head("main")
    heads: dict[int, str] = {}
    made = 0
    for step in steps:
        if step.kind == "push-main":
            step.before = git.head("main")
            step.sha = git.commit(step.files, f"push {made}", branch="main")
        else:
            branch = f"pr{step.pr}"
            if step.kind == "opened":
                git.branch(branch, from_=initial)
                step.before = initial
            else:
                step.before = heads[step.pr]
            step.sha = git.commit(step.files, f"{step.kind} {made}", branch=branch)
            heads[step.pr] = step.sha
        made += 1
    return made


def findings_at_heads(steps: Sequence[Step]) -> dict[tuple[str, int], bool]:
    """Whether each PR's final head has a finding in its diff (every touched manifest, newest content)."""
    touched: dict[tuple[str, int], dict[str, bool]] = defaultdict(dict)
    for step in steps:
        if step.kind in ("opened", "synchronize"):
            touched[(step.repo, step.pr)].update(step.bad)
    return {key: any(flags.values()) for key, flags in touched.items()}


def delay_synchronize(
    deliveries: list[Delivery], rng: random.Random, rate: float, most_s: float = 3.0
) -> list[Delivery]:
    """GitHub delivers a branch push at once and the PR's synchronize a moment later: move each
    paired synchronize 0.05-MOST_S seconds (at RATE) after its push, never past the PR's next
    delivery; a redelivery stays after its original."""
    keys = [float(i) for i in range(len(deliveries))]
    per_pr: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, delivery in enumerate(deliveries):
        if delivery.kind != "redelivery" and delivery.pr:
            per_pr[(delivery.repo, delivery.pr)].append(i)
    for i, delivery in enumerate(deliveries):
        if delivery.kind == "synchronize" and delivery.paired:
            mine = per_pr[(delivery.repo, delivery.pr)]
            after = bisect.bisect_right(mine, i)
            following = mine[after] if after < len(mine) else len(deliveries)
            keys[i] = min(i - 1 + rng.uniform(0.05, most_s) * rate, following - 0.5)
    original = {d.delivery_id: keys[i] for i, d in enumerate(deliveries) if d.kind != "redelivery"}
    for i, delivery in enumerate(deliveries):
        if delivery.kind == "redelivery":
            keys[i] = max(keys[i], original[delivery.delivery_id] + 0.25)
    return [deliveries[i] for i in sorted(range(len(deliveries)), key=lambda i: keys[i])]


def delivery_id(rng: random.Random) -> str:
    """A GUID like GitHub's X-GitHub-Delivery, from the seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_plan(
    fake: Fake, deliveries: int, repos: int, seed: int, rate: float, branch_pushes: float, threads: int = 4
) -> Plan:
    """Repositories in the fake, every commit made, every delivery signed."""
    rng = random.Random(seed)
    names = [repo_name(i) for i in range(repos)]
    for index, name in enumerate(names):
        fake.add_repo(name, files=base_files(), installation_id=installation_of(index))
    steps = make_steps(deliveries, repos, rng, branch_pushes)
    by_repo: dict[str, list[Step]] = defaultdict(list)
    for step in steps:
        if step.kind != "redelivery":
            by_repo[step.repo].append(step)
    with ThreadPoolExecutor(threads) as pool:  # git work only; one repository per thread at a time
        made = sum(pool.map(lambda item: commit_repo(fake, item[0], item[1]), by_repo.items()))
    for name in names:  # pull requests in number order, from the main thread (fake state)
        for step in by_repo.get(name, []):
            if step.kind == "opened":
                pr = fake.open_pull(name, head=f"pr{step.pr}", title=f"Change {step.pr}")
                assert pr.number == step.pr, (name, pr.number, step.pr)
    plan = Plan(names, steps, commits=made, pr_findings=findings_at_heads(steps))
    first: dict[int, Delivery] = {}
    changed: dict[tuple[str, int], set[str]] = defaultdict(set)
    for index, step in enumerate(steps):
        if step.kind == "redelivery":
            was = first[step.original]
            plan.deliveries.append(
                Delivery("redelivery", was.event, was.delivery_id, was.body, was.repo, was.sha, was.pr)
            )
            continue
        repo = fake.repo(step.repo)
        repository = {
            "id": repo.id,
            "name": step.repo.split("/")[1],
            "full_name": step.repo,
            "private": False,
            "owner": {"login": step.repo.split("/")[0]},
            "default_branch": "main",
        }
        installation = {"id": installation_of(names.index(step.repo))}
        if step.kind == "push-main" or step.paired_push:
            ref = "refs/heads/main" if step.kind == "push-main" else f"refs/heads/pr{step.pr}"
            push = {
                "ref": ref,
                "before": step.before,
                "after": step.sha,
                "created": False,
                "deleted": False,
                "forced": False,
                "head_commit": {"id": step.sha, "message": "change"},
                "commits": [{"id": step.sha}],
                "repository": repository,
                "installation": installation,
                "sender": {"login": "octocat"},
            }
            kind = "push-main" if step.kind == "push-main" else "push-branch"
            delivery = Delivery(kind, "push", delivery_id(rng), json.dumps(push).encode(), step.repo, step.sha, step.pr)
            plan.deliveries.append(delivery)
            first.setdefault(index, delivery)
        if step.kind in ("opened", "synchronize"):
            changed[(step.repo, step.pr)].update(step.files)
            pr = fake.pull(step.repo, step.pr)
            event: dict[str, Any] = {
                "action": step.kind,
                "number": step.pr,
                "repository": repository,
                "installation": installation,
                "sender": {"login": "octocat"},
                "pull_request": {
                    "number": step.pr,
                    "state": "open",
                    "draft": False,
                    "changed_files": len(changed[(step.repo, step.pr)]),
                    "head": {"sha": step.sha, "ref": f"pr{step.pr}", "repo": repository},
                    "base": {"sha": pr.base_sha, "ref": "main", "repo": repository},
                },
            }
            if step.kind == "synchronize":
                event["before"], event["after"] = step.before, step.sha
            delivery = Delivery(
                step.kind,
                "pull_request",
                delivery_id(rng),
                json.dumps(event).encode(),
                step.repo,
                step.sha,
                step.pr,
                step.paired_push,
            )
            plan.deliveries.append(delivery)
            first[index] = delivery
    plan.deliveries = delay_synchronize(plan.deliveries, rng, rate)
    return plan


# ----------------------------------------------------------------------------- the fake, the App


async def on_loop(loop: asyncio.AbstractEventLoop, function: Callable[[], Any]) -> Any:
    """Run FUNCTION on the fake's loop (its state is only touched there once it serves the App)."""

    async def call() -> Any:
        return function()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), loop))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_app(
    app_root: Path, fake: Fake, port: int, workers: int | None, log_path: Path, redis_url: str = "", role: str = "serve"
) -> subprocess.Popen[bytes]:
    """`python -m bot` (= `unroot serve`) on 127.0.0.1:PORT, or `unroot worker` with its status on
    PORT (ROLE "worker"), configured from the environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GITHUB_", "UNROOT_", "REDIS_"))}
    env.update(
        GITHUB_APP_ID=str(fake.app.app_id),
        GITHUB_PRIVATE_KEY=fake.app.private_pem,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL=fake.base_url,
        HOST=HOST,
        PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONPATH=os.pathsep.join(filter(None, (str(app_root), env.get("PYTHONPATH")))),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if workers is not None:
        env["UNROOT_WORKERS"] = str(workers)
    command = ["-m", "bot", "--host", HOST, "--port", str(port)]
    if role == "worker":
        command = ["-m", "bot.cli", "worker", "--host", HOST, "--status-port", str(port)]
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, *command], cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)


def proc_status(pid: int) -> tuple[float, float]:
    """(peak RSS MB from VmHWM, CPU seconds) of a live process."""
    peak = 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    cpu = 0.0
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return peak, cpu


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # aiohttp's run_app shuts down gracefully on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------- sending, waiting


@dataclass(frozen=True)
class Ack:
    """The App's answer to one delivery, timed by the sender."""

    index: int
    status: int  # 0: no answer
    ms: float
    reply: str  # the JSON body's "status" (e.g. "duplicate delivery") or "error"
    queued: int
    at: float  # wall clock when answered (the fake's clock)
    error: str = ""


async def post(session: aiohttp.ClientSession, url: str, index: int, delivery: Delivery) -> Ack:
    headers = delivery.headers()
    started = time.perf_counter()
    try:
        async with session.post(url, data=delivery.body, headers=headers) as response:
            raw = await response.read()
            ms = 1000 * (time.perf_counter() - started)
    except (TimeoutError, aiohttp.ClientError) as error:
        return Ack(
            index, 0, 1000 * (time.perf_counter() - started), "", 0, time.time(), f"{type(error).__name__} {error}"
        )
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    reply = str(body.get("status") or body.get("error") or "")
    return Ack(index, response.status, ms, reply, int(body.get("queued") or 0), time.time())


async def send_all(
    session: aiohttp.ClientSession,
    urls: Sequence[str],
    deliveries: Sequence[Delivery],
    rate: float,
    limit_s: float,
    before_send: Callable[[Delivery], None],
) -> tuple[list[Ack], float, int]:
    """Open loop: delivery i leaves at start + i/rate whatever the earlier answers, to URLS[i % len];
    stops after LIMIT_S seconds whatever is left. Returns the answers, the sending time and how
    many were not sent."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    deadline = start + limit_s
    tasks: list[asyncio.Task[Ack]] = []
    for index, delivery in enumerate(deliveries):
        due = start + index / rate
        if due > deadline:
            break
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        before_send(delivery)
        tasks.append(asyncio.create_task(post(session, urls[index % len(urls)], index, delivery)))
    sent_for = loop.time() - start
    acks = list(await asyncio.gather(*tasks))
    return acks, sent_for, len(deliveries) - len(tasks)


async def health(session: aiohttp.ClientSession, base: str) -> dict[str, Any] | None:
    try:
        async with session.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as response:
            body = await response.json(content_type=None)
            return body if response.status == 200 and isinstance(body, dict) else None
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None


def in_progress(fake: Fake) -> int:
    return sum(1 for run in fake.check_runs.values() if run.name == CHECK_NAME and run.status != "completed")


async def drain(
    session: aiohttp.ClientSession,
    base: str,
    fake: Fake,
    loop: asyncio.AbstractEventLoop,
    timeout: float,
    settle: float,
) -> tuple[str, float]:
    """Wait until the App is idle (queue_depth 0, running 0) and no check run is in progress.
    Idle for SETTLE seconds with runs still in progress: nothing will complete them, stop."""
    started = time.monotonic()
    idle_since: float | None = None
    while time.monotonic() - started < timeout:
        state = await health(session, base)
        busy = state is None or int(state.get("queue_depth", 1)) > 0 or int(state.get("running", 1)) > 0
        open_runs = int(await on_loop(loop, lambda: in_progress(fake)))
        if not busy and open_runs == 0:
            return "drained", time.monotonic() - started
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= settle:
            return f"idle, {open_runs} check runs stuck in progress", time.monotonic() - started
        await asyncio.sleep(0.25)
    return f"NOT drained after {timeout:.0f} s", time.monotonic() - started


# ----------------------------------------------------------------------------- results


@dataclass
class Outage:
    """A Redis restart in the middle of the run (--redis-restart-at)."""

    stopped: float = 0.0  # wall clock
    started: float = 0.0
    worker_restarts: int | None = None  # unroot_worker_restarts_total over the worker processes (None: not exported)
    left: str = ""  # what was still in arq's queue after the drain


@dataclass
class Snapshot:
    """The fake's state after the run (copied on its loop)."""

    runs: list[tuple[str, str, str, str, str]]  # repo, sha, status, conclusion, title
    run_seconds: list[float]  # created -> completed, completed runs
    completions: list[float]  # wall clock of every completion of an unroot run (a run completed twice counts twice)
    reviews: list[tuple[str, int, str, float]]  # repo, pr, commit_id, created
    requests: list[tuple[str, str, int, float]]  # method, route, status, duration
    random_faults: dict[str, int]
    internal_errors: int
    schema_errors: int
    internal_error_lines: list[str]
    max_in_flight: int


def snapshot(fake: Fake) -> Snapshot:
    return Snapshot(
        [
            (r.repo, r.head_sha, r.status, r.conclusion or "", str((r.output or {}).get("title") or ""))
            for r in fake.check_runs.values()
            if r.name == CHECK_NAME
        ],
        [r.completed_at - r.created_at for r in fake.check_runs.values() if r.name == CHECK_NAME and r.completed_at],
        [
            req.started + req.duration
            for req in fake.requests
            if req.route == "/repos/{owner}/{repo}/check-runs/{check_run_id}"
            and req.method == "PATCH"
            and isinstance(req.body, dict)
            and req.body.get("status") == "completed"
            and req.status < 300
        ],
        [(r.repo, r.pull_number, r.commit_id, r.created_at) for r in fake.reviews.values()],
        [(r.method, r.route or r.path, r.status, r.duration) for r in fake.requests],
        dict(fake.random_faults),
        len(fake.internal_errors),
        len(fake.schema_errors),
        [error.strip().splitlines()[-1][:200] for error in fake.internal_errors],
        int(fake.max_in_flight),
    )


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class LogFacts:
    """What the App's log says (plain-text or one-JSON-object-per-line logs)."""

    conclusions: Counter[str] = field(default_factory=Counter)  # of "job done" records
    exceptions: Counter[str] = field(default_factory=Counter)  # last line of each logged traceback
    superseded: int = 0
    rate_limit_waits: int = 0


def _exception_line(text: str) -> str:
    last = [line for line in text.splitlines() if line.strip() and not line.startswith((" ", "\t"))][-1:]
    line = last[0] if last else text.strip()[:160]
    return re.sub(r"\b[0-9a-f]{12,40}\b", "<sha>", re.sub(r"org\d+/svc\d+", "<repo>", line))[:160]


def read_log(path: Path) -> LogFacts:
    facts = LogFacts()
    lines = path.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines):
        record: Any = None
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                record = json.loads(line)
        if isinstance(record, dict):
            message = str(record.get("message") or "")
            if record.get("exc_info"):
                facts.exceptions[_exception_line(str(record["exc_info"]))] += 1
            conclusion = record.get("conclusion")
        else:
            message = line.split(" ", 4)[-1] if re.match(r"\d{4}-\d\d-\d\d ", line) else line
            if line.startswith("Traceback"):
                end = number + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t", "Traceback")) or not lines[end].strip()):
                    end += 1
                if end < len(lines):
                    facts.exceptions[_exception_line(lines[end])] += 1
            found = re.match(r"job done: \S+ \S+ (\S+)", message)
            conclusion = found.group(1) if found else None
        if message.startswith("job done"):
            facts.conclusions[str(conclusion or "?")] += 1
        facts.superseded += message.startswith("superseded queued job")
        facts.rate_limit_waits += message.startswith("rate limited")
    return facts


@dataclass(frozen=True)
class ProcFacts:
    """One App process after the run."""

    name: str  # serve0, worker1, ...
    peak_mb: float
    cpu_s: float
    log_path: Path
    killed: bool = False


@dataclass(frozen=True)
class Summary:
    """The figures a multi-run comparison needs."""

    worker_procs: int
    jobs: int
    jobs_per_s: float
    window_s: float
    ack_p99_ms: float
    passed: bool


def merge_logs(procs: Sequence[ProcFacts]) -> LogFacts:
    merged = LogFacts()
    for proc in procs:
        facts = read_log(proc.log_path)
        merged.conclusions.update(facts.conclusions)
        merged.exceptions.update(facts.exceptions)
        merged.superseded += facts.superseded
        merged.rate_limit_waits += facts.rate_limit_waits
    return merged


@dataclass
class RunFacts:
    """Everything one run measured, as the report reads it."""

    args: argparse.Namespace
    plan: Plan
    acks: list[Ack]
    sent_for: float
    unsent: int
    drained: str
    drain_s: float
    snap: Snapshot
    procs: Sequence[ProcFacts]
    setup_s: float
    app_root: Path
    load: tuple[float, float]
    fleet: dict[str, int]
    worker_procs: int


@dataclass
class _Answers:
    """How the App answered the deliveries."""

    accepted: int
    duplicates: int
    redeliveries: int
    errors: Counter[str]
    acks_ms: list[float]
    refused: int  # first deliveries refused while Redis was down
    answered_otherwise: int  # answered neither 200 nor 202, outside an outage


@dataclass
class _Outcomes:
    """What the App did with the jobs: runs, reviews, throughput."""

    done: int
    window: float
    jobs_per_s: float
    per_sha: Counter[tuple[str, str]]
    reviews_per_sha: Counter[tuple[str, str]]
    stuck: list[tuple[str, str]]
    expected: set[tuple[str, str]]
    missing: list[tuple[str, str]]


def report(run: RunFacts) -> Summary:
    """Print the figures and a PASS/FAIL line per target."""
    _print_setup(run)
    answers = _print_answers(run)
    outcomes = _print_outcomes(run, answers)
    _print_processes(run)
    p99 = percentile(answers.acks_ms, 99)
    targets = _targets(run, answers, outcomes, p99)
    for ok, text in targets:
        print(("PASS  " if ok else "FAIL  ") + text)
    for repo, sha in outcomes.missing[:5]:
        print(f"      missing: {repo} {sha[:12]}{_refused_after(run.plan, run.acks, repo, sha)}")
    for repo, sha in outcomes.stuck[:5]:
        print(f"      in progress: {repo} {sha[:12]}")
    return Summary(
        run.worker_procs, outcomes.done, outcomes.jobs_per_s, outcomes.window, p99, all(ok for ok, _ in targets)
    )


def _print_setup(run: RunFacts) -> None:
    """The load, the fake, the App's shape and the machine."""
    args, plan = run.args, run.plan
    installations = len({installation_of(i) for i in range(len(plan.repos))})
    print(
        f"unroot load test: {len(plan.deliveries)} deliveries at {args.rate:g}/s over {len(plan.repos)} repositories "
        f"({installations} installations), seed {args.seed}"
    )
    print(
        f"fake GitHub: {1000 * args.latency:.0f} ms per call, random faults {100 * args.fault_502:g}% 502 and "
        f"{100 * args.fault_secondary:g}% secondary rate limit (403, retry-after: 1), token endpoint exempt"
    )
    if args.redis:
        killed = any(p.killed for p in run.procs)
        print(
            f"App: on Redis, {args.servers} x `unroot serve` (deliveries round-robin) and {run.worker_procs} x `unroot worker`, "
            f"UNROOT_WORKERS {args.workers or 'default'} per worker process, from {run.app_root}"
            + (f"; worker0 SIGKILLed {args.kill_worker_after:g} s into the sending" if killed else "")
        )
    else:
        print(
            f"App: python -m bot from {run.app_root}, workers {args.workers or 'default'}, "
            + (f"log {run.procs[0].log_path}" if args.app_log else "log not kept (--app-log FILE keeps it)")
        )
    print(
        f"machine: {os.cpu_count()} CPUs, 1-minute load average {run.load[0]:.2f} before setup, {run.load[1]:.2f} after the drain "
        "(other work on the machine shows in the ack times)"
    )
    print(
        f"setup: {run.setup_s:.1f} s ({plan.commits} commits, {sum(1 for s in plan.steps if s.kind == 'opened')} pull requests)"
    )
    print()


def _print_answers(run: RunFacts) -> _Answers:
    """What was sent, how it was answered, and how fast."""
    acks, plan = run.acks, run.plan
    kinds = Counter(plan.deliveries[a.index].kind for a in acks)
    answered = [a for a in acks if a.status]
    acks_ms = [a.ms for a in answered]
    accepted = sum(1 for a in acks if a.status == 202)
    duplicates = sum(1 for a in acks if a.status == 200 and a.reply == "duplicate delivery")
    other = Counter(
        f"{a.status} {a.reply}".strip()
        for a in answered
        if a.status != 202 and not (a.status == 200 and a.reply == "duplicate delivery")
    )
    errors = Counter(a.error.split(" ")[0] for a in acks if not a.status)
    print(
        f"sent        {len(acks)} in {run.sent_for:.2f} s ({len(acks) / max(run.sent_for, 1e-9):.1f}/s), {run.unsent} not sent (time limit): "
        + ", ".join(f"{kinds[k]} {k}" for k in ("opened", "synchronize", "push-branch", "push-main", "redelivery"))
    )
    print(
        f"answered    {accepted} accepted (202), {duplicates} duplicates answered (200) of {kinds['redelivery']} redeliveries, "
        f"other {dict(other) or 0}, no answer {dict(errors) or 0}"
    )
    print(
        f"ack ms      p50 {percentile(acks_ms, 50):.1f}  p90 {percentile(acks_ms, 90):.1f}  p99 {percentile(acks_ms, 99):.1f}  "
        f"max {max(acks_ms, default=0):.1f}  (client-measured, {len(acks_ms)} answers)"
    )
    slowest = sorted(answered, key=lambda a: -a.ms)[:5]
    print(
        "            slowest: " + ", ".join(f"#{a.index} {plan.deliveries[a.index].kind} {a.ms:.1f}" for a in slowest)
    )
    print(f"drain       {run.drained} {run.drain_s:.1f} s after the last answer")
    refused = _refused_in(getattr(run.args, "outage", None), acks)
    otherwise = sum(1 for a in acks if a.status not in (200, 202)) - refused  # with an outage: refused outside it
    return _Answers(accepted, duplicates, kinds["redelivery"], errors, acks_ms, refused, otherwise)


def _print_outcomes(run: RunFacts, answers: _Answers) -> _Outcomes:
    """Jobs, throughput, an outage, check runs, heads, reviews and API calls."""
    args, plan, acks, snap = run.args, run.plan, run.acks, run.snap
    facts = merge_logs(run.procs)
    done = sum(facts.conclusions.values())
    first_accept = min((a.at - a.ms / 1000 for a in acks if a.status == 202), default=0.0)
    window = max(snap.completions, default=first_accept) - first_accept
    jobs_per_s = done / window if window > 0 else 0.0
    print(
        f"jobs        {sum(a.queued for a in acks)} queued by deliveries, {facts.superseded + run.fleet.get('superseded', 0)} superseded while queued, "
        f"{done} completed (App log 'job done': {dict(facts.conclusions)}); "
        f"{facts.rate_limit_waits} rate-limit waits logged"
    )
    print(
        f"throughput  {jobs_per_s:.1f} jobs/s ({done} jobs from the first accepted delivery to the last completed check run, {window:.1f} s)"
    )
    if run.fleet:
        print("redis       " + ", ".join(f"{key} {value}" for key, value in sorted(run.fleet.items())))
    outage: Outage | None = getattr(args, "outage", None)
    if outage is not None:
        restarts = "not exported" if outage.worker_restarts is None else str(outage.worker_restarts)
        print(
            f"outage      redis-server stopped {args.redis_restart_at:g} s into the sending, back {outage.started - outage.stopped:.1f} s later "
            f"(append-only file kept); {answers.refused} first deliveries refused meanwhile; worker loop restarts {restarts}"
        )
        print(f"            left in the queue after the drain: {outage.left}")
    per_sha: Counter[tuple[str, str]] = Counter((repo, sha) for repo, sha, *_ in snap.runs)
    completed = {(repo, sha) for repo, sha, status, *_ in snap.runs if status == "completed"}
    stuck = [(repo, sha) for repo, sha, status, *_ in snap.runs if status != "completed"]
    could_not = Counter(
        title.split(":", 1)[1].strip()[:90] if ":" in title else title
        for *_, title in snap.runs
        if title.startswith("unroot could not finish")
    )
    still = "" if run.drained == "drained" or run.drained.startswith("idle") else " (the App was still working)"
    print(
        f"check runs  {len(snap.runs)} '{CHECK_NAME}' runs on {len(per_sha)} SHAs; {len(stuck)} in progress{still}; "
        f"{sum(could_not.values())} concluded 'unroot could not finish'"
    )
    print(
        f"            created -> completed s: p50 {percentile(snap.run_seconds, 50):.1f}  p99 {percentile(snap.run_seconds, 99):.1f}  "
        f"max {max(snap.run_seconds, default=0):.1f}"
    )
    for reason, count in could_not.most_common(6):
        print(f"              {count:>4} x {reason}")
    lanes = _lanes(plan, acks)
    expected = {(repo, sha) for (repo, _), sha in lanes.items()}
    sent_keys = {
        (plan.deliveries[a.index].repo, plan.deliveries[a.index].sha)
        for a in acks
        if plan.deliveries[a.index].kind != "redelivery"
    }
    superseded_heads = sent_keys - expected
    print(
        f"heads       {len(sent_keys)} head SHAs sent, {len(expected)} newest of their lane (expected to complete), "
        f"{len(superseded_heads)} superseded ({sum(1 for k in superseded_heads if k in completed)} of those completed anyway)"
    )
    reviews_per_sha: Counter[tuple[str, str]] = Counter((repo, sha) for repo, _, sha, _ in snap.reviews)
    reviewed_prs = {(repo, pr) for repo, pr, *_ in snap.reviews}
    findings_unreviewed = [
        k
        for k, bad in plan.pr_findings.items()
        if bad and k not in reviewed_prs and (k[0], lanes.get((k[0], f"pr:{k[1]}"), "")) in expected
    ]
    print(
        f"reviews     {len(snap.reviews)} on {len(reviews_per_sha)} SHAs; {len(findings_unreviewed)} PRs with findings "
        f"at their final head have no review at all; {_stale_reviews(plan, acks, snap)} posted more than {STALE_MARGIN_S:g} s after the App "
        f"accepted a newer head of the PR (stale)"
    )
    _print_api(snap, done)
    missing = sorted(expected - completed)
    return _Outcomes(done, window, jobs_per_s, per_sha, reviews_per_sha, stuck, expected, missing)


def _print_api(snap: Snapshot, done: int) -> None:
    """The calls the App made, and the faults it met."""
    fault_counts = Counter(status for _, _, status, _ in snap.requests if status >= 400)
    genuine = Counter(
        f"{status} {method} {route}"
        for method, route, status, _ in snap.requests
        if status >= 400 and status not in (403, 502)
    )
    mean_ms = 1000 * sum(d for *_, d in snap.requests) / max(1, len(snap.requests))
    print(
        f"API         {len(snap.requests)} calls ({len(snap.requests) / max(done, 1):.1f} per completed job), mean "
        f"{mean_ms:.0f} ms, max {snap.max_in_flight} in flight; injected faults {sum(snap.random_faults.values())} {snap.random_faults}; "
        f"answers >= 400 {dict(sorted(fault_counts.items()))}"
    )
    _print_faults(snap, genuine)


def _print_processes(run: RunFacts) -> None:
    """Each App process's memory and CPU, its tracebacks, and the benchmark's own CPU."""
    tracebacks = merge_logs(run.procs).exceptions
    for proc in run.procs:
        state = " (SIGKILLed; figures from just before)" if proc.killed else ""
        print(f"{proc.name:<11} peak RSS {proc.peak_mb:.1f} MB (VmHWM), CPU {proc.cpu_s:.1f} s{state}")
    print(f"App         {sum(tracebacks.values())} tracebacks logged")
    print(
        f"benchmark   CPU {run.args.bench_cpu_s:.1f} s in this process (the fake GitHub's thread and the sender; "
        f"response schema checks {'off' if run.args.no_fake_checks else 'on'})"
    )
    for message, count in tracebacks.most_common(8):
        print(f"              {count:>4} x {message}")
    print()


def _targets(run: RunFacts, answers: _Answers, outcomes: _Outcomes, p99: float) -> list[tuple[bool, str]]:
    """Each target, met or not, with its figures."""
    first_time = len(run.acks) - answers.redeliveries
    if getattr(run.args, "outage", None) is None:
        delivered = (
            answers.accepted == first_time and answers.duplicates == answers.redeliveries and not answers.errors,
            "every first delivery accepted and every redelivery answered as a duplicate: "
            f"{answers.accepted}/{first_time}, {answers.duplicates}/{answers.redeliveries}",
        )
    else:
        delivered = (
            answers.answered_otherwise == 0 and not answers.errors,
            "every delivery accepted, answered as a duplicate, or refused while Redis was down: "
            f"{answers.answered_otherwise} answered otherwise",
        )
    twice_run = sum(1 for n in outcomes.per_sha.values() if n > 1)
    twice_reviewed = sum(1 for n in outcomes.reviews_per_sha.values() if n > 1)
    return [
        (p99 < ACK_P99_TARGET_MS, f"acknowledgement p99 < {ACK_P99_TARGET_MS:g} ms: {p99:.1f} ms"),
        delivered,
        (run.drained == "drained", f"App drained within {run.args.drain_timeout:g} s: {run.drained}"),
        (not outcomes.stuck, f"check runs left in progress = 0: {len(outcomes.stuck)}"),
        (not twice_run, f"head SHAs with more than one '{CHECK_NAME}' check run = 0: {twice_run}"),
        (not twice_reviewed, f"head SHAs with more than one review = 0: {twice_reviewed}"),
        (
            not outcomes.missing,
            f"expected head SHAs without a completed check run = 0: {len(outcomes.missing)} of {len(outcomes.expected)}",
        ),
    ]


def _stale_reviews(plan: Plan, acks: Sequence[Ack], snap: Snapshot) -> int:
    """Reviews posted well after the App had accepted a newer head of the same PR."""
    pr_heads: dict[tuple[str, int], list[tuple[str, float]]] = defaultdict(list)  # (SHA, accepted at), in order
    for ack in sorted(acks, key=lambda a: a.index):
        sent = plan.deliveries[ack.index]
        if sent.kind in ("opened", "synchronize") and ack.status == 202:
            pr_heads[(sent.repo, sent.pr)].append((sent.sha, ack.at))
    stale = 0
    for repo, pr, sha, created in snap.reviews:
        heads = pr_heads.get((repo, pr), [])
        position = next((k for k, (head, _) in enumerate(heads) if head == sha), len(heads))
        stale += any(at + STALE_MARGIN_S < created for _, at in heads[position + 1 :])
    return stale


def _lanes(plan: Plan, acks: Sequence[Ack]) -> dict[tuple[str, str], str]:
    """The newest SHA sent per PR and per main branch (as the App's queue lanes)."""
    lanes: dict[tuple[str, str], str] = {}
    for ack in sorted(acks, key=lambda a: a.index):
        sent = plan.deliveries[ack.index]
        if ack.status != 202:
            continue  # a delivery the App refused (503 while Redis was down) is GitHub's to redeliver: not expected
        if sent.kind in ("opened", "synchronize"):
            lanes[(sent.repo, f"pr:{sent.pr}")] = sent.sha
        elif sent.kind == "push-main":
            lanes[(sent.repo, "ref:refs/heads/main")] = sent.sha
        # A branch push always comes with a synchronize of the same SHA: the PR lane covers it.
    return lanes


def _print_faults(snap: Snapshot, genuine: Counter[str]) -> None:
    """Where the fake's 502s and 403s landed, failed calls of other kinds, and the fake's own bugs."""
    for status in (502, 403):
        routes = Counter(f"{method} {route}" for method, route, answer, _ in snap.requests if answer == status)
        if routes:
            print(f"            {status} by call: " + ", ".join(f"{n} {route}" for route, n in routes.most_common()))
    if genuine:
        print(
            "            failed calls other than 403/502: " + ", ".join(f"{n} x {k}" for k, n in genuine.most_common(6))
        )
    if snap.internal_errors or snap.schema_errors:
        print(
            f"fake        {snap.internal_errors} internal errors, {snap.schema_errors} schema errors (bugs in the fake)"
        )
        for line, count in Counter(snap.internal_error_lines).most_common(4):
            print(f"              {count:>4} x {line}")


def _refused_in(outage: Outage | None, acks: Sequence[Ack], margin_s: float = 1.0) -> int:
    """First deliveries answered other than 202 while Redis was down (or just after: answers in flight)."""
    if outage is None:
        return 0
    return sum(
        1
        for a in acks
        if a.status != 202 and a.reply != "duplicate delivery" and outage.stopped <= a.at <= outage.started + margin_s
    )


def _lane(delivery: Delivery) -> str:
    return (
        f"pr:{delivery.pr}"
        if delivery.kind in ("opened", "synchronize")
        else "main"
        if delivery.kind == "push-main"
        else ""
    )


def _refused_after(plan: Plan, acks: Sequence[Ack], repo: str, sha: str) -> str:
    """Why an expected head may have no run: a later delivery of its lane that the App refused had
    already moved the lane in Redis (its submit failed half-way), so the queued head was dropped."""
    by_index = sorted(acks, key=lambda a: a.index)
    mine = [
        a
        for a in by_index
        if plan.deliveries[a.index].repo == repo and plan.deliveries[a.index].sha == sha and a.status == 202
    ]
    if not mine or not _lane(plan.deliveries[mine[-1].index]):
        return ""
    lane = _lane(plan.deliveries[mine[-1].index])
    later = [
        a
        for a in by_index
        if a.index > mine[-1].index
        and plan.deliveries[a.index].repo == repo
        and _lane(plan.deliveries[a.index]) == lane
        and a.status not in (200, 202)
    ]
    return f" (a later delivery of its lane, #{later[0].index}, was answered {later[0].status})" if later else ""


# ----------------------------------------------------------------------------- main


@dataclass
class Started:
    """An App process the benchmark started."""

    name: str
    proc: subprocess.Popen[bytes]
    base: str
    log_path: Path
    killed: bool = False
    facts: tuple[float, float] = (0.0, 0.0)


async def wait_ready(session: aiohttp.ClientSession, started: Sequence[Started]) -> None:
    ready_by = time.monotonic() + 60
    for app in started:
        while await health(session, app.base) is None:
            if app.proc.poll() is not None or time.monotonic() > ready_by:
                raise RuntimeError(
                    f"{app.name} did not start (exit {app.proc.poll()}):\n{app.log_path.read_text()[-3000:]}"
                )
            await asyncio.sleep(0.1)


async def fleet_stats(redis_url: str) -> dict[str, int]:
    """The workers' shared counters in Redis (superseded, deferred, completed, ...)."""
    from bot.redisqueue import RedisQueue

    queue = RedisQueue(redis_url, run_jobs=False)
    await queue.connect()
    try:
        return await queue.counters()
    finally:
        await queue.redis.aclose()


async def restart_redis(server: Any, at: float, down: float, outage: Outage) -> None:
    """Stop redis-server AT seconds from now, keep it down DOWN seconds, start it again (same port, same files)."""
    await asyncio.sleep(at)
    outage.stopped = time.time()
    await asyncio.to_thread(server.stop)  # SIGTERM: Redis writes its append-only file out first
    await asyncio.sleep(down)
    await asyncio.to_thread(server.start)
    outage.started = time.time()


async def worker_restarts(session: aiohttp.ClientSession, bases: Sequence[str]) -> int | None:
    """unroot_worker_restarts_total summed over the worker processes' /metrics (None: none exports it)."""
    found: list[float] = []
    for base in bases:
        with contextlib.suppress(TimeoutError, aiohttp.ClientError):
            async with session.get(f"{base}/metrics") as response:
                match = re.search(r"^unroot_worker_restarts_total (\S+)$", await response.text(), re.MULTILINE)
                if match:
                    found.append(float(match.group(1)))
    return int(sum(found)) if found else None


async def queue_left(redis_url: str) -> str:
    """The jobs still in arq's queue, and how long their in-progress keys (if any) still hold them."""
    from arq.constants import in_progress_key_prefix

    from bot.redisqueue import QUEUE_NAME, RedisQueue

    queue = RedisQueue(redis_url, run_jobs=False)
    await queue.connect()
    try:
        ids = [raw.decode() for raw in await queue.redis.zrange(QUEUE_NAME, 0, -1)]
        ttls = [float(await queue.redis.pttl(in_progress_key_prefix + job)) / 1000 for job in ids]
        held = [ttl for ttl in ttls if ttl > 0]
        return f"{len(ids)} jobs, {len(held)} held by an in-progress key" + (
            f" for up to {max(held):.0f} s more" if held else ""
        )
    finally:
        await queue.redis.aclose()


async def run(args: argparse.Namespace, worker_procs: int = 0) -> Summary:
    from tests import redisserver  # the test helpers load only when a run starts
    from tests.fakegithub import fake_in_thread

    app_root = Path(args.app_root).resolve()
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="unroot-load-"))
        fake, loop = stack.enter_context(fake_in_thread(Path(work) / "github"))
        restarting = args.redis_restart_at is not None
        server = (
            stack.enter_context(redisserver.redis_server(Path(work) / "redis", persist=restarting))
            if args.redis
            else None
        )
        redis_url = server.url if server is not None else ""
        assert fake.base_url.startswith(f"http://{HOST}:"), fake.base_url
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        plan = build_plan(fake, args.deliveries, args.repos, args.seed, args.rate, args.branch_pushes)
        for step in plan.steps:  # every PR starts at the head of its "opened" delivery
            if step.kind == "opened":
                fake.pull(step.repo, step.pr).head_sha = step.sha
        setup_s = time.monotonic() - started
        fake.latency = args.latency
        fake.fault_random.seed(args.seed)
        fake.fault_rates = {
            key: rate for key, rate in (("502", args.fault_502), ("secondary", args.fault_secondary)) if rate > 0
        }
        fake.fault_retry_after = 1
        fake.check_responses = not args.no_fake_checks
        own_cpu = time.process_time()
        apps: list[Started] = []
        roles = [("serve", n) for n in range(args.servers if args.redis else 1)] + [
            ("worker", n) for n in range(worker_procs)
        ]
        for role, n in roles:
            port = free_port()
            log_path = Path(work) / f"{role}{n}.log"
            if args.app_log and role == "serve" and n == 0:
                log_path = Path(args.app_log)
            proc = start_app(app_root, fake, port, args.workers, log_path, redis_url, role)
            apps.append(Started(f"{role}{n}", proc, f"http://{HOST}:{port}", log_path))
        servers = [app for app in apps if app.name.startswith("serve")]
        try:
            connector = aiohttp.TCPConnector(limit=512)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
                await wait_ready(session, apps)

                def before_send(delivery: Delivery) -> None:
                    if delivery.kind == "synchronize":  # GitHub moves the PR before it tells
                        pull = fake.pull(delivery.repo, delivery.pr)
                        loop.call_soon_threadsafe(setattr, pull, "head_sha", delivery.sha)

                def kill(victim: Started) -> None:
                    victim.facts = proc_status(victim.proc.pid)
                    victim.proc.send_signal(signal.SIGKILL)
                    victim.killed = True

                workers = [app for app in apps if app.name.startswith("worker")]
                if args.kill_worker_after is not None and workers:
                    asyncio.get_running_loop().call_later(args.kill_worker_after, kill, workers[0])
                limit = min(args.send_limit, len(plan.deliveries) / args.rate + 30)
                urls = [f"{app.base}/webhook" for app in servers]
                outage = Outage() if restarting else None
                restart = (
                    asyncio.create_task(restart_redis(server, args.redis_restart_at, args.redis_down, outage))
                    if outage
                    else None
                )
                acks, sent_for, unsent = await send_all(session, urls, plan.deliveries, args.rate, limit, before_send)
                if restart is not None:
                    await restart  # the sending may end before Redis is back
                drained, drain_s = await drain(session, servers[0].base, fake, loop, args.drain_timeout, args.settle)
                for app in apps:
                    if not app.killed:
                        app.facts = proc_status(app.proc.pid)
                load = (load_before, os.getloadavg()[0])
                args.bench_cpu_s = time.process_time() - own_cpu
                snap: Snapshot = await on_loop(loop, lambda: snapshot(fake))
                fleet = await fleet_stats(redis_url) if redis_url else {}
                if outage is not None:
                    outage.worker_restarts = await worker_restarts(session, [app.base for app in workers])
                    outage.left = await queue_left(redis_url)
                    args.outage = outage
        finally:
            for app in apps:
                stop_app(app.proc)
        procs = [ProcFacts(app.name, app.facts[0], app.facts[1], app.log_path, app.killed) for app in apps]
        return report(
            RunFacts(
                args,
                plan,
                acks,
                sent_for,
                unsent,
                drained,
                drain_s,
                snap,
                procs,
                setup_s,
                app_root,
                load,
                fleet,
                worker_procs,
            )
        )


def compare(summaries: Sequence[Summary]) -> None:
    """The scaling table: each run against the first, same load, same shell session."""
    base = summaries[0]
    print("scaling (same load, same session; jobs/s = completed jobs / first accepted delivery -> last completed run)")
    print(" workers  jobs  window s  jobs/s  ratio  ack p99 ms  targets")
    for item in summaries:
        ratio = item.jobs_per_s / base.jobs_per_s if base.jobs_per_s else 0.0
        print(
            f" {item.worker_procs:>7}  {item.jobs:>4}  {item.window_s:>8.1f}  {item.jobs_per_s:>6.1f}  {ratio:>5.2f}  "
            f"{item.ack_p99_ms:>10.1f}  {'PASS' if item.passed else 'FAIL'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--deliveries", type=int, default=1000, help=f"webhook deliveries to send (at most {MAX_DELIVERIES})"
    )
    parser.add_argument("--rate", type=float, default=200.0, help=f"deliveries per second (at most {MAX_RATE:g})")
    parser.add_argument("--repos", type=int, default=50, help="repositories (10 per installation)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake GitHub adds to every call")
    parser.add_argument("--fault-502", type=float, default=0.05, help="share of API calls answered 502")
    parser.add_argument(
        "--fault-secondary", type=float, default=0.01, help="share of API calls answered with a secondary rate limit"
    )
    parser.add_argument(
        "--branch-pushes",
        type=float,
        default=0.35,
        help="share of synchronize events that follow a push event of the same SHA",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the event mix and of the fault draws")
    parser.add_argument("--workers", type=int, help="UNROOT_WORKERS for the App (default: the App's default)")
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="seconds to wait for the App to finish after sending"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds idle with runs still in progress before giving up on them"
    )
    parser.add_argument("--send-limit", type=float, default=120.0, help="hard limit on the sending time, seconds")
    parser.add_argument("--app-root", default=str(ROOT), help="checkout whose App runs (default: this one)")
    parser.add_argument("--app-log", help="keep the App's log in this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--redis", action="store_true", help="run the App on a redis-server: serve processes plus worker processes"
    )
    parser.add_argument(
        "--servers", type=int, default=2, help="with --redis: `unroot serve` processes (deliveries go round-robin)"
    )
    parser.add_argument(
        "--worker-procs",
        default="1",
        help="with --redis: `unroot worker` processes; a comma list (1,2,4) runs the same load once per count",
    )
    parser.add_argument(
        "--no-fake-checks",
        action="store_true",
        help="the fake skips validating its answers against GitHub's OpenAPI schema (its own CPU, which shares the 2 cores)",
    )
    parser.add_argument(
        "--kill-worker-after", type=float, help="with --redis: SIGKILL one worker this many seconds into the sending"
    )
    parser.add_argument(
        "--redis-restart-at",
        type=float,
        help="with --redis: stop redis-server this many seconds into the sending and start it again --redis-down seconds later (append-only file kept)",
    )
    parser.add_argument(
        "--redis-down", type=float, default=3.0, help="with --redis-restart-at: seconds Redis stays down"
    )
    args = parser.parse_args(argv)
    try:
        counts = [int(part) for part in str(args.worker_procs).split(",")]
    except ValueError:
        parser.error("--worker-procs takes numbers, e.g. 1,2,4")
    if not args.redis and (args.kill_worker_after is not None or args.redis_restart_at is not None or counts != [1]):
        parser.error("--worker-procs, --kill-worker-after and --redis-restart-at need --redis")
    if (args.redis_restart_at is not None and args.redis_restart_at < 0) or not 0 < args.redis_down <= 60:
        parser.error("--redis-restart-at must be >= 0 and --redis-down from 0 to 60 seconds")
    if args.redis and (not 1 <= args.servers <= 8 or not all(1 <= n <= 16 for n in counts)):
        parser.error("--servers 1..8 and --worker-procs 1..16")
    if not 1 <= args.deliveries <= MAX_DELIVERIES or not 0 < args.rate <= MAX_RATE or not 1 <= args.repos <= 1000:
        parser.error(f"--deliveries 1..{MAX_DELIVERIES}, --rate up to {MAX_RATE:g}, --repos 1..1000")
    if args.fault_502 < 0 or args.fault_secondary < 0 or args.fault_502 + args.fault_secondary > 1:
        parser.error("fault rates must be >= 0 and add up to at most 1")
    if not 0 <= args.branch_pushes <= 1 or args.latency < 0:
        parser.error("--branch-pushes must be from 0 to 1 and --latency >= 0")
    sys.setswitchinterval(0.0005)  # the fake's thread must not hold the sender off for 5 ms at a time
    summaries = []
    for n, count in enumerate(counts if args.redis else [0]):
        if n:
            print("\n" + "=" * 100 + "\n")
        summaries.append(asyncio.run(run(args, count)))
    if len(summaries) > 1:
        print()
        compare(summaries)
    return 1 if args.strict and not all(s.passed for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Handlers against real webhook payloads, the queue's rules, and app authentication."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import sansio

from bot import handlers
from bot.auth import TokenCache, app_jwt
from bot.config import AppSettings, SettingsError
from bot.queue import DeliveryLog, Job, JobKind, MemoryQueue

PAYLOADS = Path(__file__).parent / "data" / "webhooks"


def payload(name: str) -> dict[str, Any]:
    """A real payload; App deliveries also carry `installation`, which these repository examples lack."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    data.setdefault("installation", {"id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI="})
    return data


async def dispatch(event_name: str, data: dict[str, Any], app_id: int = 0) -> list[Job]:
    jobs: list[Job] = []

    async def submit(job: Job) -> bool:
        jobs.append(job)
        return True

    await handlers.router.dispatch(sansio.Event(data, event=event_name, delivery_id="d-1"), submit, app_id)
    return jobs


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
async def test_pull_request_payloads_become_review_jobs(action: str) -> None:
    data = payload(f"pull_request.{action}")
    (job,) = await dispatch("pull_request", data)
    assert job.kind == "pull_request"
    assert job.pr_number == data["number"] and job.head_sha == data["pull_request"]["head"]["sha"]
    assert job.repo == data["repository"]["full_name"] and job.installation_id == data["installation"]["id"]
    assert job.default_branch == data["repository"]["default_branch"]


async def test_push_payload_becomes_a_check_job_and_tags_and_deletions_are_ignored() -> None:
    tag_push = payload("push.event")
    assert tag_push["ref"].startswith("refs/tags/")
    assert await dispatch("push", tag_push) == []  # the example is a tag push: ignored
    data = {**tag_push, "ref": "refs/heads/feature"}
    (job,) = await dispatch("push", data)
    assert job.kind == "push" and job.head_sha == data["after"] and job.ref == "refs/heads/feature"
    assert job.base_sha is None  # before is all zeros: a new branch, compared with the default branch
    assert await dispatch("push", {**data, "deleted": True, "after": "0" * 40}) == []


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("check_suite", "check_suite.requested"),
        ("check_suite", "check_suite.rerequested"),
        ("check_run", "check_run.rerequested"),
    ],
)
async def test_check_events_rerun_only_our_own_app(event: str, name: str) -> None:
    data = payload(name)
    ours = (data.get("check_suite") or data.get("check_run") or {})["app"]["id"]
    if event == "check_run":
        data["check_run"]["name"] = "unroot"
    (job,) = await dispatch(event, data, app_id=ours)
    head = (data.get("check_suite") or data["check_run"])["head_sha"]
    assert job.head_sha == head
    assert await dispatch(event, data, app_id=ours + 1) == []


async def test_requested_action_runs_only_for_the_rerun_button() -> None:
    data = payload("check_run.requested_action")
    data["check_run"]["name"] = "unroot"
    ours = data["check_run"]["app"]["id"]
    data["requested_action"] = {"identifier": "rerun"}
    assert len(await dispatch("check_run", data, app_id=ours)) == 1
    data["requested_action"] = {"identifier": "something-else"}
    assert await dispatch("check_run", data, app_id=ours) == []


async def test_installation_events_are_ignored() -> None:
    assert await dispatch("installation", payload("installation.created")) == []


def job(sha: str, pr: int | None = 1, kind: JobKind = "pull_request", delivery: str = "d") -> Job:
    return Job(
        kind=kind,
        installation_id=1,
        repo="o/r",
        head_sha=sha,
        delivery_id=delivery,
        default_branch="main",
        pr_number=pr,
        ref="refs/heads/x",
    )


async def test_queue_runs_each_commit_once_and_supersedes_older_pushes() -> None:
    queue = MemoryQueue(workers=1)
    started: list[str] = []
    release = asyncio.Event()
    currency: dict[str, bool] = {}

    async def handler(work: Job, is_current: Any) -> None:
        started.append(work.head_sha)
        await release.wait()
        currency[work.head_sha] = await is_current()

    await queue.start(handler)
    assert await queue.submit(job("a"))
    await asyncio.sleep(0.01)  # "a" is running
    assert not await queue.submit(job("a", delivery="other"))  # same commit: once
    assert await queue.submit(job("b"))
    assert await queue.submit(job("c"))  # supersedes queued "b"
    assert queue.depth() == 1
    release.set()
    await queue.join()
    await queue.stop()
    assert started == ["a", "c"]
    assert currency == {"a": False, "c": True}  # "a" learned it was superseded


async def test_a_pull_request_job_replaces_a_queued_push_job_for_the_same_commit() -> None:
    queue = MemoryQueue(workers=1)
    seen: list[str] = []

    async def handler(work: Job, is_current: Any) -> None:
        seen.append(work.kind)

    assert await queue.submit(job("s", pr=None, kind="push"))
    assert await queue.submit(job("s", pr=7))  # accepted: it takes the push job's place
    assert queue.depth() == 1
    await queue.start(handler)
    await queue.join()
    await queue.stop()
    assert seen == ["pull_request"]


async def test_delivery_log_remembers_ids() -> None:
    deliveries = DeliveryLog(capacity=2)
    assert await deliveries.first_time("a") and not await deliveries.first_time("a")
    assert await deliveries.first_time("b") and await deliveries.first_time("c")
    assert await deliveries.first_time("a")  # forgotten past capacity


def rsa_pem() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


def test_app_jwt_is_rs256_issued_in_the_past_and_short_lived() -> None:
    pem, public = rsa_pem()
    token = app_jwt("123", pem, now=1_000_000.0)
    claims = jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == "123" and claims["iat"] == 1_000_000 - 60
    assert claims["exp"] - claims["iat"] <= 600


async def test_token_cache_fetches_once_and_refreshes_before_expiry() -> None:
    pem, _ = rsa_pem()
    now = [1_000_000.0]
    calls: list[int] = []

    async def fetch(installation: int, app_token: str) -> tuple[str, str]:
        calls.append(installation)
        await asyncio.sleep(0.01)
        expiry = datetime.fromtimestamp(now[0], UTC) + timedelta(hours=1)
        return f"t{len(calls)}", expiry.strftime("%Y-%m-%dT%H:%M:%SZ")

    cache = TokenCache("1", pem, fetch, clock=lambda: now[0])
    tokens = await asyncio.gather(*(cache.token(5) for _ in range(10)))
    assert set(tokens) == {"t1"} and calls == [5]
    now[0] += 3600 - 200  # inside the refresh margin
    assert await cache.token(5) == "t2"


def test_settings_refuse_to_start_without_secret_or_with_a_bad_key(tmp_path: Path) -> None:
    pem, _ = rsa_pem()
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET"):
        AppSettings.from_env({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": pem})
    with pytest.raises(SettingsError, match="does not parse"):
        AppSettings.from_env({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "nope", "GITHUB_WEBHOOK_SECRET": "s"})
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem)
    settings = AppSettings.from_env(
        {
            "GITHUB_APP_ID": "1",
            "GITHUB_PRIVATE_KEY_PATH": str(key_file),
            "GITHUB_WEBHOOK_SECRET": "s",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3",
        }
    )
    assert settings.graphql_url == "https://ghe.example.com/api/graphql"
    assert "s" not in repr(settings).split("webhook_secret")[-1][:5]


async def test_a_pull_request_job_that_replaced_a_push_job_can_itself_be_superseded() -> None:
    queue = MemoryQueue(workers=1)
    ran: list[tuple[str, bool]] = []

    async def handler(work: Job, is_current: Any) -> None:
        ran.append((work.head_sha, await is_current()))

    assert await queue.submit(job("a", pr=None, kind="push"))
    assert await queue.submit(job("a", pr=7))  # replaces the push job, same commit
    assert await queue.submit(job("b", pr=7))  # a newer head of PR 7 supersedes it
    await queue.start(handler)
    await queue.join()
    await queue.stop()
    assert ran == [("b", True)]


async def test_two_jobs_for_one_commit_never_run_at_the_same_time() -> None:
    queue = MemoryQueue(workers=2)
    active: list[str] = []
    overlap: list[bool] = []

    async def handler(work: Job, is_current: Any) -> None:
        overlap.append(bool(active))
        active.append(work.kind)
        await asyncio.sleep(0.05)
        active.pop()

    await queue.start(handler)
    assert await queue.submit(job("s", pr=None, kind="push"))
    await asyncio.sleep(0.01)  # the push job is running
    assert await queue.submit(job("s", pr=3))  # the PR job of the same commit is accepted, and waits
    await queue.join()
    await queue.stop()
    assert overlap == [False, False]

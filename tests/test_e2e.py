"""End to end: the real `unroot serve` app over HTTP, signed deliveries, the fake GitHub."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import make_app
from bot.config import AppSettings
from bot.github import RetryPolicy
from bot.queue import RetryLaterPolicy
from bot.status import RUNTIME
from rules.analyze import analyze
from rules.fixes import apply
from rules.model import Severity
from tests.fakegithub import FakeGitHub, PullRequest
from tests.patience import PATIENCE

SECRET = "e2e-secret"
PAYLOADS = Path(__file__).parent / "data" / "webhooks"
ROOT_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nUSER root\nCMD ["python", "app.py"]\n'
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: example/app:1\n"
)


@dataclass
class Bot:
    """The running app and a way to send it deliveries."""

    server: TestServer
    session: aiohttp.ClientSession
    fake: FakeGitHub

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery: str | None = None, secret: str = SECRET
    ) -> aiohttp.ClientResponse:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
            "Content-Type": "application/json",
        }
        response = await self.session.post(self.server.make_url("/webhook"), data=body, headers=headers)
        await response.read()
        return response

    async def idle(self) -> None:
        await self.server.app[RUNTIME].queue.join()  # type: ignore[attr-defined]


@pytest.fixture
async def bot(fake_github: FakeGitHub) -> AsyncIterator[Bot]:
    settings = AppSettings(
        app_id=fake_github.app.app_id,
        private_key=fake_github.app.private_pem,
        webhook_secret=SECRET,
        api_url=fake_github.base_url,
        workers=4,
    )
    app = make_app(settings)
    app[RUNTIME].retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Bot(server, session, fake_github)
    await server.close()


def pr_payload(
    fake: FakeGitHub, pr: PullRequest, action: str = "opened", changed_files: int | None = None
) -> dict[str, Any]:
    """A real pull_request payload (from @octokit/webhooks-examples) pointed at the fake's PR."""
    data: dict[str, Any] = copy.deepcopy(json.loads((PAYLOADS / "pull_request.opened.json").read_text()))
    repo = fake.repo(pr.repo)
    data["action"] = action
    data["number"] = pr.number
    data["installation"] = {"id": 1}
    data["repository"].update(full_name=repo.full_name, default_branch=repo.default_branch, id=repo.id)
    data["pull_request"].update(number=pr.number)
    if changed_files is None:
        data["pull_request"].pop("changed_files", None)  # then the bot follows the Link headers
    else:
        data["pull_request"]["changed_files"] = changed_files
    data["pull_request"]["head"].update(sha=pr.head_sha, ref=pr.head_ref)
    data["pull_request"]["base"].update(sha=pr.base_sha, ref=pr.base_ref)
    return data


def apply_suggestions(text: str, comments: list[Any]) -> str:
    """GitHub's semantics: a suggestion replaces lines start_line..line of the file."""
    lines = text.split("\n")
    edits = []
    for comment in comments:
        body = comment.body
        if "```suggestion" not in body:
            continue
        fence_start = body.index("```suggestion")
        fence = body[body.rfind("\n", 0, fence_start) + 1 : fence_start + 3].strip()
        fence = "`" * (len(fence) - len(fence.lstrip("`"))) if fence.startswith("`") else "```"
        start = body.index("\n", fence_start) + 1
        end = body.index("\n" + fence, start)
        suggestion = body[start:end]
        first = comment.start_line or comment.line
        edits.append((first, comment.line, suggestion))
    for first, last, suggestion in sorted(edits, reverse=True):
        lines[first - 1 : last] = suggestion.split("\n") if suggestion else []
    return "\n".join(lines)


def completed_runs(fake: FakeGitHub, repo: str, sha: str) -> list[Any]:
    return [run for run in fake.check_runs_for(repo, sha=sha) if run.name == "unroot"]


async def test_pull_request_gets_one_review_whose_suggestions_fix_the_files(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE, "k8s/pod.yaml": POD})
    response = await bot.deliver("pull_request", pr_payload(fake, pr))
    assert response.status == 202
    await bot.idle()

    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"
    assert len(run.annotations) >= 2
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert review.state == "COMMENTED" and review.commit_id == pr.head_sha
    comments = fake.comments_for(pr.repo, pr.number)
    assert comments and all("<!-- unroot:" in c.body for c in comments)
    assert not [r for r in fake.requests if r.status == 422], "GitHub would have refused a request"
    for path, text in (("Dockerfile", ROOT_DOCKERFILE), ("k8s/pod.yaml", POD)):
        fixed = apply_suggestions(text, [c for c in comments if c.path == path])
        assert fixed != text
        assert not [f for f in analyze(path, fixed) if f.severity is Severity.ERROR], fixed


async def test_a_readme_only_pull_request_still_gets_a_successful_check(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"README.md": "hello\n"})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "success"
    assert fake.reviews_for(pr.repo, pr.number) == []


async def test_a_second_push_posts_no_duplicate_and_a_fix_resolves_the_thread(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    first = len(fake.comments_for(pr.repo, pr.number))
    assert first >= 1

    # An unrelated change: the finding's line is unchanged, so nothing is posted again.
    fake.push_pull(pr.repo, pr.number, {"README.md": "hi again\n"})
    pr = fake.pull(pr.repo, pr.number)
    await bot.deliver("pull_request", pr_payload(fake, pr, "synchronize"))
    await bot.idle()
    assert len(fake.comments_for(pr.repo, pr.number)) == first
    assert len(completed_runs(fake, pr.repo, pr.head_sha)) == 1

    # The author fixes it: the bot's thread is resolved.
    fake.push_pull(pr.repo, pr.number, {"Dockerfile": ROOT_DOCKERFILE.replace("USER root", "USER 10001:10001")})
    pr = fake.pull(pr.repo, pr.number)
    await bot.deliver("pull_request", pr_payload(fake, pr, "synchronize"))
    await bot.idle()
    threads = fake.threads_for(pr.repo, pr.number)
    assert threads and all(t.is_resolved for t in threads)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "success"


async def test_redelivery_runs_once_and_a_bad_signature_is_refused(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    payload = pr_payload(fake, pr)
    assert (await bot.deliver("pull_request", payload, delivery="same-id")).status == 202
    assert (await bot.deliver("pull_request", payload, delivery="same-id")).status == 200
    forged = await bot.deliver("pull_request", payload, delivery="other", secret="wrong")
    assert forged.status == 401
    await bot.idle()
    assert len(completed_runs(fake, pr.repo, pr.head_sha)) == 1
    assert len(fake.reviews_for(pr.repo, pr.number)) == 1


async def test_push_to_a_branch_gets_a_check_run(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"deploy/pod.yaml": POD})
    payload = json.loads((PAYLOADS / "push.event.json").read_text())
    repo = fake.repo(pr.repo)
    payload.update(
        ref=f"refs/heads/{pr.head_ref}", before="0" * 40, after=pr.head_sha, deleted=False, installation={"id": 1}
    )
    payload["repository"].update(full_name=repo.full_name, default_branch=repo.default_branch, id=repo.id)
    assert (await bot.deliver("push", payload)).status == 202
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure"
    assert any(a["path"] == "deploy/pod.yaml" for a in run.annotations)


async def test_fork_pull_request_is_read_by_sha_from_the_base_repository(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, head_repo="alice/app")
    assert pr.is_fork
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure"
    assert len(fake.reviews_for(pr.repo, pr.number)) == 1


async def test_130_manifests_paginate_and_annotations_go_50_at_a_time(bot: Bot) -> None:
    fake = bot.fake
    files = {f"k8s/app{index:03}.yaml": POD.replace("name: web", f"name: web{index}") for index in range(130)}
    pr = fake.setup_pull({"README.md": "hi\n"}, files)
    await bot.deliver("pull_request", pr_payload(fake, pr, changed_files=130))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert {a["path"] for a in run.annotations} == set(files)
    assert all(len(body.get("output", {}).get("annotations", [])) <= 50 for body in run.bodies)
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert len(fake.comments_for(pr.repo, pr.number)) <= 30
    assert not [r for r in fake.requests if r.status >= 400 and not r.path.endswith("/.github/unroot.yml")]


async def test_github_5xx_is_retried_and_a_job_that_still_fails_completes_its_check(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    fake.fail_next(2, status=502, path=r"/pulls/\d+/files")
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and run.output["title"] != "" and "could not finish" not in run.output["title"]

    pr2 = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, head="other")
    # Retried later by the queue too, but only for 0.2 s here: then the run stays as it was left.
    bot.server.app[RUNTIME].queue.retry = RetryLaterPolicy(first=0.01, cap=0.05, total=0.2)  # type: ignore[attr-defined]
    fake.fail_next(500, status=502, path=r"/pulls/\d+/files")
    await bot.deliver("pull_request", pr_payload(fake, pr2))
    await bot.idle()
    fake.clear_faults()
    (broken,) = completed_runs(fake, pr2.repo, pr2.head_sha)
    assert broken.status == "completed" and broken.conclusion == "failure"
    assert broken.output["title"].startswith("unroot could not finish")
    assert [a["identifier"] for a in broken.actions] == ["rerun"]


async def test_healthz_reports_queue_depth(bot: Bot) -> None:
    response = await bot.session.get(bot.server.make_url("/healthz"))
    body = await response.json()
    assert response.status == 200 and body["status"] == "ok" and body["queue_depth"] == 0


async def test_ping_and_malformed_bodies(bot: Bot) -> None:
    assert (await bot.deliver("ping", {"zen": "Keep it logically awesome."})).status == 200
    body = b"{not json"
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = await bot.session.post(
        bot.server.make_url("/webhook"),
        data=body,
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "x",
            "X-Hub-Signature-256": signature,
            "Content-Type": "application/json",
        },
    )
    assert response.status == 400
    unknown = await bot.deliver("star", {"action": "created", "installation": {"id": 1}})
    assert unknown.status == 202


async def test_github_enterprise_base_url_derives_rest_and_graphql(fake_github: FakeGitHub) -> None:
    settings = AppSettings(
        app_id=fake_github.app.app_id,
        private_key=fake_github.app.private_pem,
        webhook_secret=SECRET,
        api_url=fake_github.ghes_base_url,
    )
    assert settings.graphql_url == fake_github.ghes_graphql_url
    server = TestServer(make_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            ghes = Bot(server, session, fake_github)
            pr = fake_github.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
            await ghes.deliver("pull_request", pr_payload(fake_github, pr))
            await ghes.idle()
    finally:
        await server.close()
    (run,) = completed_runs(fake_github, pr.repo, pr.head_sha)
    # A wrong GraphQL URL (say /api/v3/graphql) would 404 and the run would say it could not finish.
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"]
    assert len(fake_github.reviews_for(pr.repo, pr.number)) == 1


async def test_installation_token_expiring_mid_job_is_refreshed(bot: Bot) -> None:
    fake = bot.fake
    fake.token_lifetime = 1.0  # every token dies within a second
    tokens = bot.server.app[RUNTIME].tokens
    assert tokens is not None
    tokens._margin = 0.0
    fake.latency = 0.3  # so a job outlives its first token
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    fake.latency = 0.0
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"]
    assert len(fake.requests_to("POST", "/app/installations/{installation_id}/access_tokens")) >= 2


async def test_a_review_github_refuses_is_posted_again_without_inline_comments(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    fake.fail_next(
        1,
        status=422,
        method="POST",
        path=r"/pulls/\d+/reviews",
        message="Pull request review thread line must be part of the diff",
    )
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert fake.comments_for(pr.repo, pr.number) == []
    assert "<!-- unroot:" in review.body and "```suggestion" in review.body
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"]


async def test_rate_limits_wait_as_github_says_and_the_job_completes(bot: Bot) -> None:
    fake = bot.fake
    bot.server.app[RUNTIME].retry = RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.05, secondary_floor=0.05)
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    fake.rate_limit_next(2, retry_after=0, method="POST", path=r"/pulls/\d+/reviews")  # secondary limit
    fake.primary_rate_limit_next(1, reset_in=1, path=r"/pulls/\d+/files")  # x-ratelimit-remaining: 0
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"]
    assert len(fake.reviews_for(pr.repo, pr.number)) == 1
    assert bot.server.app[RUNTIME].counters.rate_limited == 3


async def test_a_secondary_limit_without_retry_after_waits_the_floor(bot: Bot) -> None:
    import http

    from gidgethub import BadRequest

    from bot.github import _rate_limit_wait

    policy = RetryPolicy(secondary_floor=60.0)
    error = BadRequest(http.HTTPStatus(403), "You have exceeded a secondary rate limit", headers={})
    assert _rate_limit_wait(error, policy, 0.0) == 60.0
    with_header = BadRequest(http.HTTPStatus(403), "limited", headers={"Retry-After": "7"})
    assert _rate_limit_wait(with_header, policy, 0.0) == 7.0
    forbidden = BadRequest(http.HTTPStatus(403), "Resource not accessible by integration", headers={})
    assert _rate_limit_wait(forbidden, policy, 0.0) is None


async def test_metrics_count_deliveries_jobs_and_api_calls(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    response = await bot.session.get(bot.server.make_url("/metrics"))
    text = await response.text()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert 'unroot_deliveries_total{answer="202",event="pull_request"} 1.0' in text
    assert 'unroot_jobs_total{outcome="failure"} 1.0' in text
    assert "unroot_job_duration_seconds_count 1.0" in text
    assert "unroot_queue_depth 0.0" in text
    calls = [line for line in text.splitlines() if line.startswith("unroot_github_api_calls_total ")]
    assert calls and float(calls[0].split()[1]) >= 5


async def test_no_secret_reaches_the_logs_even_at_debug(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    fake = bot.fake
    caplog.set_level(logging.DEBUG)
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    fake.fail_next(1, status=502, path=r"/pulls/\d+/files")  # a retry, a warning path
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.deliver("pull_request", pr_payload(fake, pr), secret="wrong")
    await bot.idle()
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "job done" in logged  # debug logging did capture the job
    secrets = [SECRET, *fake.tokens.keys(), *[line for line in fake.app.private_pem.splitlines() if len(line) > 20]]
    assert fake.tokens and not [s for s in secrets if s in logged]


def test_serve_refuses_to_start_without_a_secret_unless_told_it_is_insecure(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.fakegithub import shared_app_key

    env = {**os.environ, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": shared_app_key().private_pem, "PORT": "1"}
    env.pop("GITHUB_WEBHOOK_SECRET", None)
    refused = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, text=True, timeout=PATIENCE
    )
    assert refused.returncode == 2 and "GITHUB_WEBHOOK_SECRET" in refused.stderr
    from bot.config import AppSettings

    insecure = AppSettings.from_env(env, insecure_no_secret=True)
    assert insecure.webhook_secret == ""


async def test_insecure_mode_accepts_unsigned_deliveries_and_says_so(fake_github: FakeGitHub) -> None:
    settings = AppSettings(
        app_id=fake_github.app.app_id,
        private_key=fake_github.app.private_pem,
        webhook_secret="",
        api_url=fake_github.base_url,
    )
    server = TestServer(make_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            health = await (await session.get(server.make_url("/healthz"))).json()
            assert health["insecure"] is True
            response = await session.post(
                server.make_url("/webhook"),
                data=b'{"zen": "x"}',
                headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "1", "Content-Type": "application/json"},
            )
            assert response.status == 200
    finally:
        await server.close()


async def test_a_body_over_the_limit_gets_413(bot: Bot) -> None:
    # Judged from Content-Length, before the body is read (a well-formed signature gets that far).
    response = await bot.session.post(
        bot.server.make_url("/webhook"),
        data=b"{" + b" " * (26 * 1024 * 1024) + b"}",
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "big",
            "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + "0" * 64,
        },
    )
    assert response.status == 413


async def test_a_graphql_rate_limit_honours_retry_after_not_the_floor(bot: Bot) -> None:
    import time

    fake = bot.fake
    # A floor of 600 s: waiting it would outlast the retry budget, so the job would give up.
    bot.server.app[RUNTIME].retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, secondary_floor=600.0)
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    fake.rate_limit_next(1, retry_after=1, path="^/graphql$")
    started = time.monotonic()
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    assert time.monotonic() - started < 300  # 1 s as GitHub said, not the 600 s floor
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert "could not finish" not in run.output["title"]
    assert bot.server.app[RUNTIME].counters.rate_limited == 1


# A repository that builds example/app itself, as non-root (skaffold.dev's Docker builder).
SKAFFOLD = (
    "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n    - image: example/app\n      context: app\n"
)
APP_DOCKERFILE = 'FROM python:3.12-slim\nRUN useradd --uid 1000 app\nUSER 1000\nCMD ["python", "-m", "app"]\n'


def ur201_levels(run: Any) -> list[str]:
    return [a["annotation_level"] for a in run.annotations if "UR201" in (a.get("title") or "") + a["message"]]


async def test_an_image_the_repository_builds_non_root_gets_the_warning_not_the_error(bot: Bot) -> None:
    fake = bot.fake
    repository = {"skaffold.yaml": SKAFFOLD, "app/Dockerfile": APP_DOCKERFILE}
    pr = fake.setup_pull(repository, {"k8s/pod.yaml": POD})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert ur201_levels(run) == ["warning"], run.annotations
    assert any("relies on the image (app/Dockerfile runs it as USER 1000)" in a["message"] for a in run.annotations)
    trees = [r for r in fake.requests if r.route == "/repos/{owner}/{repo}/git/trees/{tree_sha}"]
    assert len(trees) == 1 and not [r for r in fake.requests if r.status >= 400]


async def test_without_the_file_listing_the_check_still_completes_judging_less(bot: Bot) -> None:
    fake = bot.fake
    repository = {"skaffold.yaml": SKAFFOLD, "app/Dockerfile": APP_DOCKERFILE}
    pr = fake.setup_pull(repository, {"k8s/pod.yaml": POD})
    fake.fail_next(100, status=404, path=r"/git/trees/")
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    fake.clear_faults()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"]
    assert ur201_levels(run) == ["failure"]


async def test_a_truncated_listing_keeps_stated_mappings_and_matches_no_names(bot: Bot) -> None:
    fake = bot.fake
    fake.tree_entry_limit = 3  # app/, app/Dockerfile and k8s/: k8s/pod.yaml is cut off
    pr = fake.setup_pull({"app/Dockerfile": APP_DOCKERFILE}, {"k8s/pod.yaml": POD})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert ur201_levels(run) == ["failure"]  # the name match needs the whole listing to be sure


MANY_CONTAINERS = (Path(__file__).parent / "data" / "many-containers" / "deployment.yaml").read_text()
HARDENED_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
    "    runAsUser: 10001\n    runAsGroup: 10001\n    seccompProfile:\n      type: RuntimeDefault\n"
    "  containers:\n    - name: a\n      image: a:1\n      securityContext:\n"
    "        allowPrivilegeEscalation: false\n        capabilities:\n          drop: [ALL]\n"
)  # its one finding is a notice (UR211, writable root filesystem)


async def test_a_20_container_deployment_gets_one_comment_with_one_suggestion_and_no_notice_inline(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"deploy/deploy.yaml": MANY_CONTAINERS})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()

    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    findings = analyze("deploy/deploy.yaml", MANY_CONTAINERS)
    assert sum(f.severity is Severity.NOTICE for f in findings) == 20
    assert run.conclusion == "failure"
    assert (
        run.output["summary"]
        .split("\n\n")[1]
        .startswith(
            "**1 one-click fix** in the review for `deploy/deploy.yaml`; or run `unroot fix deploy/deploy.yaml`."
        )
    )
    (review,) = fake.reviews_for(pr.repo, pr.number)
    # Was 30 inline comments (9 of them notices) and 21 suggestions, 11 more in the body.
    (comment,) = fake.comments_for(pr.repo, pr.number)
    assert comment.body.count("```suggestion") == 1 and "(notice)" not in comment.body
    assert "containers c0, c1, c2, … c19 (20) of Deployment/many: may run as root" in comment.body
    assert "Also 20 notices without an inline comment: see [the check run's annotations](" in review.body
    assert f"/runs/{run.id})" in review.body
    # The one click leaves the file as every first-pass fix applied would (what `unroot fix` writes first).
    every_fix = [e for f in findings if f.fix is not None for e in f.fix.edits]
    fixed = apply_suggestions(MANY_CONTAINERS, [comment])
    assert fixed == apply(MANY_CONTAINERS, every_fix)
    assert not [f for f in analyze("deploy/deploy.yaml", fixed) if f.severity is not Severity.NOTICE]

    # A push that adds nothing new posts no second review.
    fake.push_pull(pr.repo, pr.number, {"README.md": "hi again\n"})
    pr = fake.pull(pr.repo, pr.number)
    await bot.deliver("pull_request", pr_payload(fake, pr, "synchronize"))
    await bot.idle()
    assert len(fake.reviews_for(pr.repo, pr.number)) == 1
    assert len(fake.comments_for(pr.repo, pr.number)) == 1


async def test_a_pull_request_with_only_notices_gets_annotations_and_no_review(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"pod.yaml": HARDENED_POD})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "success"
    assert [a["annotation_level"] for a in run.annotations] == ["notice"]
    assert fake.reviews_for(pr.repo, pr.number) == []


async def test_review_event_from_the_config_requests_changes(bot: Bot) -> None:
    fake = bot.fake
    config = "review:\n  event: REQUEST_CHANGES\n"
    pr = fake.setup_pull({".github/unroot.yml": config}, {"Dockerfile": ROOT_DOCKERFILE})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert review.state == "CHANGES_REQUESTED"


WARNINGS_ONLY_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
    "    runAsUser: 10001\n    runAsGroup: 10001\n    seccompProfile:\n      type: RuntimeDefault\n"
    "  containers:\n    - name: a\n      image: a:1\n"
)  # warnings with a fix (UR205, UR206) and a notice: no error


async def test_the_review_section_of_the_config_file_is_honoured(bot: Bot) -> None:
    fake = bot.fake
    config = "review:\n  min-severity: error\n  max-inline: 1\n  event: REQUEST_CHANGES\n"
    pr = fake.setup_pull(
        {".github/unroot.yml": config},
        {"Dockerfile": ROOT_DOCKERFILE, "pod.yaml": POD, "warned.yaml": WARNINGS_ONLY_POD},
    )
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert review.state == "CHANGES_REQUESTED"
    # Two groups hold errors (the Dockerfile's, the root pod's); one goes inline, the other over the limit.
    (comment,) = fake.comments_for(pr.repo, pr.number)
    assert comment.path == "Dockerfile" and "(error)" in comment.body
    assert "1 over the 1-comment limit" in review.body and "`pod.yaml`" in review.body
    # Warnings, even with a fix, are below min-severity: annotations only.
    assert "warned.yaml" not in comment.body and "`warned.yaml`" not in review.body.split("Also")[0]
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert {a["path"] for a in run.annotations} == {"Dockerfile", "pod.yaml", "warned.yaml"}


async def test_min_severity_notice_puts_a_fixable_notice_inline(bot: Bot) -> None:
    fake = bot.fake
    pr = fake.setup_pull({".github/unroot.yml": "review: {min-severity: notice}\n"}, {"pod.yaml": HARDENED_POD})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (comment,) = fake.comments_for(pr.repo, pr.number)
    assert "UR211" in comment.body and "(notice)" in comment.body and "```suggestion" in comment.body

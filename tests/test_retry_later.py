"""GitHub failing for a while never costs a commit its check run: the job is kept and retried
until a completed run exists, exactly one (issue: persistent failures lost the run)."""

from __future__ import annotations

import pytest

from bot.queue import RetryLaterPolicy
from bot.status import RUNTIME
from tests.test_e2e import POD, Bot, bot, completed_runs, pr_payload  # noqa: F401 (the bot fixture)

FAILING = {
    "token": ("POST", r"/access_tokens$"),
    "list check runs": ("GET", r"/check-runs"),
    "create check run": ("POST", r"/check-runs$"),
    "complete check run": ("PATCH", r"/check-runs/\d+$"),
    "GraphQL": ("POST", r"^/graphql$"),
    "pull request files": ("GET", r"/pulls/\d+/files"),
}


@pytest.mark.parametrize("call", sorted(FAILING))
@pytest.mark.parametrize("status", [502, 403])
async def test_a_call_failing_for_a_while_still_ends_in_one_completed_run(bot: Bot, call: str, status: int) -> None:  # noqa: F811
    fake = bot.fake
    state = bot.server.app[RUNTIME]
    state.queue.retry = RetryLaterPolicy(first=0.05, cap=0.2, total=120)  # type: ignore[attr-defined]
    state.retry.secondary_floor = 0.01
    method, path = FAILING[call]
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": POD})
    # 12 failures: three whole job attempts' worth of retries inside the client (4 each).
    if status == 403:
        fake.rate_limit_next(12, retry_after=0.01, method=method, path=path)
    else:
        fake.fail_next(12, status, method=method, path=path)
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    runs = completed_runs(fake, pr.repo, pr.head_sha)
    assert len(runs) == 1, runs
    assert runs[0].status == "completed", runs[0]
    assert not fake.faults, "the failures were not all met"
    # Not a "could not finish" left for a person to re-run: the retry replaced it with the verdict.
    assert runs[0].conclusion == "failure" and not runs[0].output["title"].startswith("unroot could not finish"), runs[
        0
    ].output

"""What the App reads and posts, against people who try to fool it: file names that bend URLs,
comments that imitate the bot, repository text that would speak in its voice, answers lost
after a write was applied, and GraphQL errors that are not worth a retry."""

from __future__ import annotations

import pytest
from fakegithub import FakeGitHub
from test_e2e import POD, Bot, bot, completed_runs, pr_payload  # noqa: F401 (the bot fixture)

from bot.app import STATE

BIG_ROOT_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    filler: \"" + "x" * 600_000 + "\"\n"
    "spec:\n  securityContext:\n    runAsUser: 0\n  containers:\n  - name: app\n    image: example/app:1\n"
)


@pytest.mark.parametrize("name", ["k8s/big#1.yaml", "k8s/big%41.yaml", "k8s/big?x=1.yaml", "k8s/b ig&y.yaml"])
async def test_a_big_file_with_url_characters_in_its_name_is_still_judged(bot: Bot, name: str) -> None:  # noqa: F811
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {name: BIG_ROOT_POD})
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure", run.output
    assert any(a["path"] == name and a["annotation_level"] == "failure" for a in run.annotations), run.annotations


@pytest.mark.parametrize("kind", ["FORBIDDEN", "NOT_FOUND", "argumentLiteralsIncompatible"])
async def test_a_permanent_graphql_error_is_not_retried(bot: Bot, kind: str) -> None:  # noqa: F811
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": POD})
    fake.graphql_error_next(1, kind)
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and run.output["title"].startswith("unroot could not finish"), run.output
    graphql = [r for r in fake.requests if r.path == "/graphql"]
    assert len(graphql) == 1, [r.status for r in graphql]  # asked once: the answer will not change


async def test_a_graphql_rate_limit_error_is_waited_out_and_retried(bot: Bot) -> None:  # noqa: F811
    fake = bot.fake
    bot.server.app[STATE].retry.secondary_floor = 0.05
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": POD})
    fake.graphql_error_next(1, "RATE_LIMITED", "API rate limit exceeded")
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and not run.output["title"].startswith("unroot could not finish"), run.output


LOST_WRITES = {
    "create check run": ("POST", r"/check-runs$"),
    "update check run (annotations, completion)": ("PATCH", r"/check-runs/\d+$"),
    "create review": ("POST", r"/pulls/\d+/reviews$"),
    "GraphQL (queries and the resolve mutation)": ("POST", r"^/graphql$"),
}


@pytest.mark.parametrize("call", sorted(LOST_WRITES))
async def test_a_write_applied_with_its_answer_lost_is_not_doubled(bot: Bot, call: str) -> None:  # noqa: F811
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": "FROM debian:12\nUSER root\nCMD [\"sh\"]\n", "k8s/pod.yaml": POD})
    method, path = LOST_WRITES[call]
    fake.lose_answer_next(1, method=method, path=path)
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    assert not fake.lost_answers, "the fault was not exercised"
    runs = completed_runs(fake, pr.repo, pr.head_sha)
    assert len(runs) == 1 and runs[0].status == "completed" and runs[0].conclusion == "failure", runs
    reviews = [r for r in fake.reviews_for(pr.repo, pr.number)]
    assert len(reviews) == 1, [r.body[:80] for r in reviews]

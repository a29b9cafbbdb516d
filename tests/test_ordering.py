"""Deliveries that arrive out of order: the pull request's head as GitHub has it gets the run and
the review, whatever order our queue saw (issue: the last delivery submitted won)."""

from __future__ import annotations

import asyncio
import copy

from bot.queue import MemoryQueue
from bot.status import RUNTIME
from tests.test_e2e import POD, ROOT_DOCKERFILE, Bot, bot, completed_runs, pr_payload  # noqa: F401 (the bot fixture)


async def test_a_late_delivery_of_an_older_head_does_not_cost_the_newest_head_its_run(bot: Bot) -> None:  # noqa: F811
    fake = bot.fake
    state = bot.server.app[RUNTIME]
    state.queue = queue = MemoryQueue(1)  # one worker, so deliveries wait in the queue
    await queue.start(state.run_job, state.give_up)
    blocker = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, repo="octo/blocker")
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": POD})
    older = copy.deepcopy(pr_payload(fake, pr, "synchronize"))
    fake.push_pull(pr.repo, pr.number, {"README.md": "hi again\n"})
    newest = fake.pull(pr.repo, pr.number)
    hold = fake.hold_next(method="POST", path=r"octo/blocker/check-runs$")
    try:
        assert (await bot.deliver("pull_request", pr_payload(fake, blocker))).status == 202
        await asyncio.to_thread(hold.arrived.wait, 60)  # the only worker is busy
        assert (await bot.deliver("pull_request", pr_payload(fake, newest, "synchronize"))).status == 202
        # The older head's delivery comes last (a redelivery, a slow server): it takes the lane.
        assert (await bot.deliver("pull_request", older)).status == 202
    finally:
        hold.released.set()
    await queue.join()
    await queue.stop()
    (run,) = completed_runs(fake, pr.repo, newest.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"
    reviews = fake.reviews_for(pr.repo, pr.number)
    assert [r.commit_id for r in reviews] == [newest.head_sha]  # no review for the stale head
    old_runs = completed_runs(fake, pr.repo, older["pull_request"]["head"]["sha"])
    assert all(r.status == "completed" for r in old_runs)

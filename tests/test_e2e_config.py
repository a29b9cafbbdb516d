"""The App and a repository's config: a misspelt key is named on the check run, `ignore:` is gitignore's."""

from __future__ import annotations

from tests.test_e2e import POD, ROOT_DOCKERFILE, Bot, bot, completed_runs, pr_payload

__all__ = ["bot"]  # the fixture, shared with test_e2e


async def test_a_misspelt_key_is_named_on_the_check_run_and_defaults_apply(bot: Bot) -> None:
    fake = bot.fake
    config = "reveiw:\n  event: REQUEST_CHANGES\nrules: {UR101: off}\n"
    pr = fake.setup_pull({".github/unroot.yml": config}, {"Dockerfile": ROOT_DOCKERFILE})
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    summary = run.output["summary"]
    assert ".github/unroot.yml on main was ignored: unknown key 'reveiw'" in summary, summary
    assert "did you mean 'review'?" in summary
    assert run.conclusion == "failure"  # the defaults: the rules the file switched off are on


async def test_ignore_patterns_mean_what_they_mean_in_a_gitignore(bot: Bot) -> None:
    fake = bot.fake
    config = "ignore:\n  - /legacy/\n  - 'docs/*.yaml'\n"
    head = {
        "legacy/Dockerfile": ROOT_DOCKERFILE,
        "docs/pod.yaml": POD,
        "docs/k8s/pod.yaml": POD,
        "app/legacy/Dockerfile": ROOT_DOCKERFILE,
    }
    pr = fake.setup_pull({".github/unroot.yml": config}, head)
    await bot.deliver("pull_request", pr_payload(fake, pr))
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    annotated = {a["path"] for a in run.annotations}
    # `/legacy/` is anchored at the root; `docs/*.yaml` does not reach into docs/k8s/.
    assert annotated == {"docs/k8s/pod.yaml", "app/legacy/Dockerfile"}, annotated

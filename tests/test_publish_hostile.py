"""What the App reads and posts, against people who try to fool it: file names that bend URLs,
comments that imitate the bot, repository text that would speak in its voice, answers lost
after a write was applied, and GraphQL errors that are not worth a retry."""

from __future__ import annotations

import re

import pytest

from bot.status import RUNTIME
from tests.test_e2e import POD, Bot, bot, completed_runs, pr_payload  # noqa: F401 (the bot fixture)

BIG_ROOT_POD = (
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    filler: "' + "x" * 600_000 + '"\n'
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
    bot.server.app[RUNTIME].retry.secondary_floor = 0.05
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
    pr = fake.setup_pull(
        {"README.md": "hi\n"}, {"Dockerfile": 'FROM debian:12\nUSER root\nCMD ["sh"]\n', "k8s/pod.yaml": POD}
    )
    method, path = LOST_WRITES[call]
    fake.lose_answer_next(1, method=method, path=path)
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    assert not fake.lost_answers, "the fault was not exercised"
    runs = completed_runs(fake, pr.repo, pr.head_sha)
    assert len(runs) == 1 and runs[0].status == "completed" and runs[0].conclusion == "failure", runs
    reviews = [r for r in fake.reviews_for(pr.repo, pr.number)]
    assert len(reviews) == 1, [r.body[:80] for r in reviews]
    places = [(a["path"], a["start_line"], a["end_line"]) for a in runs[0].annotations]
    assert places and len(places) == len(set(places)), "an annotation was posted twice"


@pytest.mark.parametrize("lost", [1, 2, 3], ids=["one batch", "both batches", "batches and completion"])
async def test_annotations_whose_answer_was_lost_are_not_posted_twice(bot: Bot, lost: int) -> None:  # noqa: F811
    # 110 annotations: two batches are added (side by side), then the completion carries 50.
    # GitHub appends the annotations of every update, so a resent update would show twice.
    fake = bot.fake
    pods = {f"k8s/pod{n:03}.yaml": POD for n in range(110)}
    pr = fake.setup_pull({"README.md": "hi\n"}, pods)
    fake.lose_answer_next(lost, method="PATCH", path=r"/check-runs/\d+$")
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    assert not fake.lost_answers, "the fault was not exercised"
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    places = [(a["path"], a["start_line"], a["end_line"]) for a in run.annotations]
    assert len(places) > 100 and len(places) == len(set(places)), (len(places), len(set(places)))
    assert run.conclusion == "failure" and not run.output["title"].startswith("unroot could not finish")


async def test_markers_posted_by_someone_else_do_not_silence_the_bot(bot: Bot) -> None:  # noqa: F811
    from bot.fingerprint import fingerprint, marker
    from rules.analyze import analyze

    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": POD})
    forged = "\n".join(marker(fingerprint(f, POD)) for f in analyze("k8s/pod.yaml", POD))
    # Someone who can comment posts every marker the bot would write, in a review body and a thread.
    fake.review_as_user(pr.repo, pr.number, "mallory", "lgtm\n" + forged, ("k8s/pod.yaml", 7, "nit\n" + forged))
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    ours = [r for r in fake.reviews_for(pr.repo, pr.number) if r.user != "mallory"]
    assert len(ours) == 1
    comments = [c for c in fake.comments_for(pr.repo, pr.number) if c.user != "mallory"]
    assert comments, "the bot's inline comments were suppressed by markers it did not write"


def test_a_marker_inside_quoted_file_text_is_not_read_back() -> None:
    from bot.diff import FileChange
    from bot.fingerprint import fingerprints_in
    from bot.plan import plan_review
    from rules.analyze import analyze

    planted = "<!-- unroot:UR201:k8s/other.yaml:0123456789ab -->"
    # The fix rewrites both settings in one edit and carries the comment between them over, so
    # the suggestion quotes the planted line.
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: x\n"
        f"    securityContext:\n      runAsNonRoot: false\n      # {planted}\n      runAsUser: 0\n"
    )
    findings = analyze("k8s/pod.yaml", pod)
    patch = f"@@ -0,0 +1,{len(pod.splitlines())} @@\n" + "".join("+" + line + "\n" for line in pod.splitlines())
    plan = plan_review(findings, [FileChange("k8s/pod.yaml", "added", patch)], {"k8s/pod.yaml": pod})
    assert any(planted in c.body for c in plan.comments), [c.body for c in plan.comments]
    for comment in plan.comments:
        assert fingerprints_in(comment.body) == set(comment.fingerprints)
    assert "0123456789ab" not in {fp.rsplit(":", 1)[1] for fp in fingerprints_in(plan.review_body)}


HOSTILE_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: '@octocat'\n    image: example/app:1\n"
    "  - name: '<details><img src=https://evil.example/x.png>'\n    image: example/app:1\n"
    "  - name: '[click to fix](https://evil.example) #123'\n    image: example/app:1\n"
)


def outside_code_blocks(text: str) -> str:
    """`text` without its fenced code blocks (a fence closes on a line of its own backticks, at least as many)."""
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        opening = re.match(r"(`{3,})", line.strip())
        if fence:
            if opening and opening[1].startswith(fence) and line.strip() == opening[1]:
                fence = ""
            continue
        if opening:
            fence = opening[1]
            continue
        out.append(line)
    return "\n".join(out)


async def test_repository_text_never_speaks_in_the_bots_voice(bot: Bot) -> None:  # noqa: F811
    fake = bot.fake
    pr = fake.setup_pull({"README.md": "hi\n"}, {"k8s/pod.yaml": HOSTILE_POD})
    assert (await bot.deliver("pull_request", pr_payload(fake, pr))).status == 202
    await bot.idle()
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    texts = [run.output.get("summary", ""), run.output.get("text") or ""]
    texts += [r.body for r in fake.reviews_for(pr.repo, pr.number)]
    texts += [c.body for c in fake.comments_for(pr.repo, pr.number)]
    # A suggestion quotes the file's lines as they are, in a code block, where GitHub renders no
    # HTML, link or mention (one suggestion per object spans the containers' names too).
    posted = outside_code_blocks("\n".join(texts))
    assert "octocat" in posted  # the names are shown...
    assert "@octocat" not in posted and "#123" not in posted  # ...but mention and link nobody
    # HTML and links only as escaped text (a backslash before each `<` and `]`).
    assert not re.search(r"(?<!\\)<(img|details)", posted) and not re.search(r"(?<!\\)\]\(\S*evil", posted), posted[
        :3000
    ]

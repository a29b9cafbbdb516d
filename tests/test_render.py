"""Posted text stays within GitHub's limits without losing the markers that stop reposts."""

from __future__ import annotations

from bot import render
from bot.fingerprint import fingerprints_in, marker
from bot.limits import MAX_BODY, MAX_OUTPUT, clip_text
from bot.outputs import Plan, ReviewComment


def _comment(n: int, size: int) -> ReviewComment:
    fp = f"UR202:deploy/{n}.yaml:{n:012x}"
    return ReviewComment(f"deploy/{n}.yaml", 3, None, "why\n" * (size // 4) + "\n" + marker(fp), (fp,))


def test_a_clipped_fallback_body_keeps_every_fingerprint_marker() -> None:
    # GitHub refused an anchor: every comment moves into the body, which is then over the limit.
    comments = tuple(_comment(n, 20_000) for n in range(6))
    plan = Plan(comments, "**unroot** found 6 errors", "COMMENT", (), "failure", "t", "s", frozenset())
    body = render.fallback_body(plan)
    assert len(body) <= MAX_BODY
    assert fingerprints_in(body) == {fp for c in comments for fp in c.fingerprints}
    assert body.startswith("**unroot** found 6 errors")


def test_clip_text_cuts_at_a_line_break_and_leaves_short_text_alone() -> None:
    text = "\n".join(f"line {n}" for n in range(1000))
    assert clip_text(text, len(text)) == text
    clipped = clip_text(text, 100, "... (cut)")
    assert len(clipped) <= 100 and clipped.endswith("\n... (cut)")
    assert all(line.startswith("line ") for line in clipped.split("\n")[:-1])


def test_clip_text_keeps_markers_written_anywhere_in_the_text() -> None:
    marks = [marker(f"UR101:Dockerfile:{n:012x}") for n in range(3)]
    text = "\n".join(["x" * 50] * 200 + [marks[0]] + ["y" * 50] * 200 + marks[1:])
    clipped = clip_text(text, 1_000)
    assert len(clipped) <= 1_000
    assert fingerprints_in(clipped) == fingerprints_in(text)


def test_a_config_note_makes_room_for_itself_with_one_cut() -> None:
    summary = "\n".join(f"| `k8s/{n}.yaml` | 1 | 0 | 0 |" for n in range(3000))
    clipped = render.with_config_note(clip_text(summary, MAX_OUTPUT, render.SUMMARY_TRUNCATED), "x" * 5000)
    assert len(clipped) <= MAX_OUTPUT
    assert clipped.startswith("> **Note:** ") and clipped.count(render.SUMMARY_TRUNCATED) == 1
    assert render.with_config_note("short", None) == "short"

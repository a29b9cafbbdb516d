"""REST: pull request reviews and review comments, anchored on the diff as GitHub anchors them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .backend import GitHubState
from .common import MAX_BODY, node_id, to_sentence
from .diff import DiffFile, DiffLine
from .replies import Ctx, Reply, error, not_found, page
from .rest_repos import ctx_pull
from .shapes import comment_json, review_json
from .state import FakeRepo, Review, ReviewComment, ReviewThread

REVIEW_DOC = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"


_LINE_OFF_DIFF = [
    "Pull request review thread line must be part of the diff",
    "Pull request review thread diff hunk can't be blank",
]


async def create_review(gh: GitHubState, ctx: Ctx) -> Reply:
    """POST a review: all or nothing, as GitHub does (one comment off the diff and nothing is posted)."""
    repo = cast(FakeRepo, ctx.repo)
    pr = ctx_pull(gh, ctx)
    if pr is None:
        return not_found()
    body = ctx.body if isinstance(ctx.body, dict) else {}

    def unprocessable(messages: Iterable[str]) -> Reply:
        return error(422, "Unprocessable Entity", errors=[to_sentence(list(dict.fromkeys(messages)))], doc=REVIEW_DOC)

    bot = gh.app.bot_login
    if any(r.state == "PENDING" and r.user == bot for r in gh.reviews_for(pr.repo, pr.number)):
        return unprocessable(["User can only have one pending review per pull request"])
    commit_id = body.get("commit_id") or pr.head_sha
    resolved = gh.resolve(repo, commit_id) if re.fullmatch(r"[0-9a-f]{7,40}", commit_id) else None
    if resolved is None or not resolved.startswith(commit_id):
        return unprocessable([f"No commit found for SHA: {commit_id}"])
    commit_id = resolved
    event = body.get("event")
    states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
    text = body.get("body") or ""
    comments = body.get("comments") or []
    messages: list[str] = []
    if len(text) > MAX_BODY:
        messages.append(f"Body is too long (maximum is {MAX_BODY} characters)")
    if (event == "REQUEST_CHANGES" and not text) or (event == "COMMENT" and not text and not comments):
        messages.append("Body can't be blank")  # "Required when using REQUEST_CHANGES or COMMENT"
    files = {f.filename: f for f in await gh.pull_diff(repo, pr, commit_id)}
    prepared: list[dict[str, Any]] = []
    for comment in comments:
        anchored, problems = _anchor(comment, files, require_start_side=gh.require_start_side)
        messages.extend(problems)
        if anchored is not None:
            prepared.append(anchored)
    if messages:
        return unprocessable(messages)
    review = Review(
        id=gh.next_id(),
        repo=pr.repo,
        pull_number=pr.number,
        state=states.get(event or "", "PENDING"),
        event=event,
        body=text,
        commit_id=commit_id,
        comment_ids=[],
        submitted_at=None,
        user=bot,
    )
    review.submitted_at = None if review.state == "PENDING" else review.created_at
    gh.reviews[review.id] = review
    for anchored in prepared:
        _open_thread(gh, review, anchored)
    return Reply(200, review_json(gh, ctx.api, review))


def _anchor(
    comment: dict[str, Any], files: Mapping[str, DiffFile], *, require_start_side: bool
) -> tuple[dict[str, Any] | None, list[str]]:
    """One inline comment placed on the diff as GitHub places it: its ReviewComment fields, or
    None, and GitHub's messages about what is wrong with it."""
    f = files.get(comment["path"])
    if f is None:
        return None, ["Path could not be resolved"]
    messages = [f"Body is too long (maximum is {MAX_BODY} characters)"] if len(comment["body"]) > MAX_BODY else []
    hunks = f.hunks()
    side = comment.get("side") or "RIGHT"
    line = comment.get("line")
    if side not in ("LEFT", "RIGHT"):
        return None, [*messages, "Pull request review thread side is invalid (expected LEFT or RIGHT)"]
    if line is None and comment.get("position") is not None:
        at = next((ln for h in hunks for ln in h.lines if ln.position == comment["position"] and ln.kind != "\\"), None)
        if at is None:
            return None, [*messages, "Pull request review thread position is invalid"]
        side, line = ("LEFT", at.old) if at.kind == "-" else ("RIGHT", at.new)
    hunk = next((h for h in hunks if line in h.side_lines(side)), None)
    if line is None or hunk is None:
        return None, [*messages, *_LINE_OFF_DIFF]
    end = cast(DiffLine, hunk.line_at(side, line))
    start_line = comment.get("start_line")
    start_side = comment.get("start_side")
    if start_line is not None:
        if start_side is None and require_start_side:
            return None, [
                *messages,
                "Pull request review thread start side can't be blank (multi-line comments need start_side)",
            ]
        start_side = start_side or side
        start = hunk.line_at(start_side, start_line)
        if (start is not None and start.position >= end.position) or (
            start is None and start_side == side and start_line >= line
        ):
            return None, [*messages, "Pull request review thread start line must precede the end line."]
        if start is None:
            return None, [*messages, "Pull request review thread start line must be part of the same hunk as the line."]
    diff_hunk = "\n".join([hunk.header] + [ln.text for ln in hunk.lines if ln.position <= end.position])
    anchored = {
        "path": f.filename,
        "line": line,
        "side": side,
        "start_line": start_line,
        "start_side": start_side if start_line is not None else None,
        "position": end.position,
        "diff_hunk": diff_hunk,
        "body": comment["body"],
    }
    return anchored, messages


def _open_thread(gh: GitHubState, review: Review, anchored: dict[str, Any]) -> None:
    """Record one of REVIEW's inline comments and the thread it opens."""
    cid = gh.next_id()
    thread_id = node_id("PRRT", cid)
    gh.review_comments[cid] = ReviewComment(
        id=cid,
        node_id=node_id("PRRC", cid),
        repo=review.repo,
        pull_number=review.pull_number,
        review_id=review.id,
        commit_id=review.commit_id,
        user=review.user,
        created_at=review.created_at,
        thread_id=thread_id,
        **anchored,
    )
    review.comment_ids.append(cid)
    gh.threads[thread_id] = ReviewThread(
        id=thread_id,
        repo=review.repo,
        pull_number=review.pull_number,
        comment_ids=[cid],
        path=anchored["path"],
        line=anchored["line"],
        start_line=anchored["start_line"],
        side=anchored["side"],
        start_side=anchored["start_side"],
    )


async def list_reviews(gh: GitHubState, ctx: Ctx) -> Reply:
    pr = ctx_pull(gh, ctx)
    if pr is None:
        return not_found()
    chunk, headers = page(ctx, gh.reviews_for(pr.repo, pr.number))
    return Reply(200, [review_json(gh, ctx.api, r) for r in chunk], headers)


async def list_review_comments(gh: GitHubState, ctx: Ctx) -> Reply:
    pr = ctx_pull(gh, ctx)
    if pr is None:
        return not_found()
    chunk, headers = page(ctx, gh.visible_comments(pr.repo, pr.number))
    return Reply(200, [comment_json(gh, ctx.api, c) for c in chunk], headers)

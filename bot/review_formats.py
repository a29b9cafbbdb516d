"""`unroot review`'s output: the check run, the inline comments and the review body, as text, Markdown or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from bot.fingerprint import is_marker
from bot.markdown import plural
from bot.outputs import CHECK_NAME
from bot.plan import group_annotations
from bot.render import with_config_note
from bot.review_local import Review

RULE = "-" * 72


def _visible(body: str) -> str:
    """A posted text without the hidden fingerprint markers (GitHub does not show them either)."""
    return "\n".join(line for line in body.split("\n") if not is_marker(line)).strip()


def _where(path: str, line: int, start_line: int | None) -> str:
    return f"{path}:{start_line}-{line}" if start_line is not None else f"{path}:{line}"


def _compared(found: Review) -> str:
    refs = found.refs
    return (
        f"{refs.head[:12]} ({refs.head_label}) against {refs.base[:12]} ({refs.base_label}): "
        f"{plural(found.files_changed, 'file')} changed, {found.files_checked} checked (Dockerfiles, manifests, charts)"
    )


def _summary(found: Review) -> str:
    return with_config_note(found.plan.summary, found.config_problem)


def _review_line(found: Review) -> str:
    plan = found.plan
    if not plan.comments and not plan.review_body:
        return "No review: nothing to comment on."
    return f"Review ({plan.review_event}) with {plural(len(plan.comments), 'inline comment')}."


def as_text(found: Review) -> str:
    """For a terminal: each part under a heading, comments at path:line, markers left out."""
    plan = found.plan
    out = [
        f"unroot review of {_compared(found)}",
        "",
        f"Check run {CHECK_NAME!r}: {plan.conclusion} - {plan.title}",
        RULE,
        _visible(_summary(found)),
        RULE,
    ]
    annotations = group_annotations(plan.annotations)
    if annotations:
        out.append(f"Annotations on the check run ({len(annotations)}):")
        out += [f"  {a.path}:{a.start_line}: {a.annotation_level}: {a.title}" for a in annotations]
    out += ["", _review_line(found)]
    for n, comment in enumerate(plan.comments, 1):
        out += ["", f"[{n}] {_where(comment.path, comment.line, comment.start_line)}", RULE, _visible(comment.body)]
    if plan.review_body:
        out += ["", "Review body (findings without an inline comment are here, and why):", RULE]
        out.append(_visible(plan.review_body))
    return "\n".join(out) + "\n"


def as_markdown(found: Review) -> str:
    """A Markdown page as GitHub would show the posts (markers kept: they are HTML comments)."""
    plan = found.plan
    out = [
        "# unroot review",
        "",
        f"Of {_compared(found)}.",
        "",
        f"## Check run `{CHECK_NAME}`: {plan.conclusion}",
        "",
        _summary(found),
        "",
        "## Review",
        "",
        _review_line(found),
    ]
    for comment in plan.comments:
        out += ["", f"### `{_where(comment.path, comment.line, comment.start_line)}`", "", comment.body]
    if plan.review_body:
        out += ["", "### Review body", "", plan.review_body]
    return "\n".join(out) + "\n"


def as_json(found: Review) -> str:
    """Everything the App would send, as the fields of its GitHub requests."""
    plan = found.plan
    refs = found.refs
    posted = bool(plan.comments or plan.review_body)
    document = {
        "base": {"sha": refs.base, "ref": refs.base_label},
        "head": {"sha": refs.head, "ref": refs.head_label},
        "files_changed": found.files_changed,
        "files_checked": found.files_checked,
        "check_run": {
            "name": CHECK_NAME,
            "conclusion": plan.conclusion,
            "title": plan.title,
            "summary": _summary(found),
            "annotations": [asdict(a) for a in group_annotations(plan.annotations)],
        },
        "review": {
            "event": plan.review_event,
            "body": plan.review_body,
            "comments": [
                {"path": c.path, "line": c.line, "start_line": c.start_line, "body": c.body} for c in plan.comments
            ],
        }
        if posted
        else None,
    }
    return json.dumps(document, indent=2) + "\n"


FORMATS = {"text": as_text, "markdown": as_markdown, "json": as_json}

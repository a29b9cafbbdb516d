"""Decide what the bot says on a pull request: which findings get an inline comment, where, and what else goes in the review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import render
from bot.config import DOCS_URL
from bot.diff import FileChange, Hunk, hunk_holding, parse_patch
from bot.fingerprint import fingerprint
from bot.limits import DEFAULT_INLINE_COMMENTS, MAX_SUGGESTION_LINES
from bot.outputs import Annotation, Group, Plan
from rules.fixes import EditConflict, merge_edits, split_lines
from rules.model import Finding, LineEdit, Severity
from rules.registry import SKIPPED, by_id


@dataclass(frozen=True)
class _Placed:
    """A group's comment inside the diff: its last line, first line (multi-line), and suggestion."""

    group: Group
    line: int
    start_line: int | None
    suggestion: str | None


def _order(finding: Finding) -> tuple[int, str, int, int, str]:
    return (-finding.severity.rank, finding.path, finding.line, finding.end_line, finding.rule)


def _span(edits: Sequence[LineEdit]) -> tuple[int, int]:
    """The lines a suggestion made of `edits` replaces (an insertion holds its line)."""
    start = min(e.start_line for e in edits)
    return start, max(max(e.end_line for e in edits), start)


def _groups(pairs: Sequence[tuple[Finding, str]]) -> list[Group]:
    """Findings whose fixes touch overlapping lines share one comment; the others get one each.

    Overlapping, not only equal: the fix of a container running as UID 0 edits the pod's and
    the container's securityContext, the seccomp fix the pod's alone. Two suggestions over the
    same lines could not both be committed, so such findings get one suggestion with all edits."""
    clusters: list[list[int]] = []  # indices into pairs
    by_path: dict[str, list[int]] = {}
    for n, (finding, _) in enumerate(pairs):
        if render.edits_of(finding):
            by_path.setdefault(finding.path, []).append(n)
        else:
            clusters.append([n])
    for indices in by_path.values():
        spans = {n: _span(render.edits_of(pairs[n][0])) for n in indices}
        local: list[list[int]] = []
        reach = 0
        for n in sorted(indices, key=lambda i: spans[i]):
            start, end = spans[n]
            if local and start <= reach:
                local[-1].append(n)
                reach = max(reach, end)
            else:
                local.append([n])
                reach = end
        clusters.extend(local)
    groups: list[Group] = []
    for cluster in sorted((sorted(c) for c in clusters), key=lambda c: c[0]):
        members = [pairs[n] for n in cluster]
        edits = {e for finding, _ in members for e in render.edits_of(finding)}
        groups.append(
            Group(
                members[0][0].path,
                tuple(f for f, _ in members),
                tuple(dict.fromkeys(fp for _, fp in members)),
                tuple(sorted(edits, key=render.edit_order)),
            )
        )
    return groups


def _place(group: Group, hunks: Sequence[Hunk], head_lines: Sequence[str] | None) -> _Placed | None:
    """Where the group's comment goes inside the diff, with its suggestion; None when outside it."""
    if group.edits and head_lines is not None:
        try:
            edits = merge_edits(group.edits)
        except EditConflict:
            edits = []
        if edits:
            start = min(e.start_line for e in edits)
            end = max(e.end_line for e in edits)
            if hunk_holding(hunks, start, end) is not None:
                text = render.suggestion(edits, head_lines, start, end)
                if text is not None:
                    return _Placed(group, end, start if start < end else None, text)
    for finding in group.findings:
        line = max(finding.line, 1)
        hunk = hunk_holding(hunks, line, line)
        if hunk is None:
            continue
        end = max(finding.end_line, line)
        if end > line and all(n in hunk.right_lines for n in range(line, end + 1)):
            return _Placed(group, end, line, None)
        return _Placed(group, line, None, None)
    return None


def _goes_inline(finding: Finding, min_severity: Severity) -> bool:
    """Whether a finding earns a place in the review: an error, or one with a fix to commit, and at
    least `min_severity`. The others are in the check run's annotations only: a notice without a
    fix, inline, is noise that takes a comment slot from a finding with a fix."""
    if finding.severity.rank < min_severity.rank:
        return False
    return finding.severity is Severity.ERROR or bool(render.edits_of(finding))


def _workload(group: Group) -> str | None:
    """The one Kubernetes object all of a group's findings are about, or None."""
    found = {f.workload for f in group.findings}
    return found.pop() if len(found) == 1 else None


def _merged(groups: Sequence[Group]) -> Group:
    """One group for several groups of one object (their findings ordered as the plan orders them)."""
    findings = sorted((f for g in groups for f in g.findings), key=_order)
    edits = {e for g in groups for e in g.edits}
    return Group(
        groups[0].path,
        tuple(findings),
        tuple(dict.fromkeys(fp for g in groups for fp in g.fingerprints)),
        tuple(sorted(edits, key=render.edit_order)),
    )


def _by_object(
    placed: Sequence[_Placed],
    hunks: Mapping[str, Sequence[Hunk]],
    texts: Mapping[str, Sequence[str]],
    voice: render.Renderer,
) -> list[_Placed]:
    """One comment with one suggestion per Kubernetes object, where its fixes allow: the suggestions
    of one object's groups become one when their edits lie in one hunk, the replaced span is at
    most MAX_SUGGESTION_LINES lines and the comment fits GitHub's limit (one click fixes the
    object). Otherwise, and for groups without a suggestion, the comments stay one per fix."""
    objects: dict[tuple[str, str], list[int]] = {}
    for n, item in enumerate(placed):
        workload = _workload(item.group)
        if item.suggestion is not None and workload is not None:
            objects.setdefault((item.group.path, workload), []).append(n)
    out = list(placed)
    dropped: set[int] = set()
    for (path, _workload_name), indices in objects.items():
        if len(indices) < 2:
            continue
        group = _merged([placed[n].group for n in indices])
        candidate = _place(group, hunks.get(path, ()), texts.get(path))
        if candidate is None or candidate.suggestion is None:
            continue
        start = candidate.start_line or candidate.line
        if candidate.line - start + 1 > MAX_SUGGESTION_LINES or not voice.fits(group, candidate.suggestion):
            continue
        others = [placed[n] for n in range(len(placed)) if n not in indices and placed[n].group.path == path]
        if any(o.suggestion is not None and _overlaps(o, start, candidate.line) for o in others):
            continue  # two objects of one name around a third: both suggestions could not be committed
        out[indices[0]] = candidate
        dropped.update(indices[1:])
    return [item for n, item in enumerate(out) if n not in dropped]


def _overlaps(placed: _Placed, start: int, end: int) -> bool:
    return (placed.start_line or placed.line) <= end and start <= placed.line


def plan_review(
    findings: Sequence[Finding],
    changes: Sequence[FileChange],
    head_texts: Mapping[str, str],
    already_commented: frozenset[str] = frozenset(),
    *,
    max_comments: int = DEFAULT_INLINE_COMMENTS,
    request_changes: bool = False,
    min_severity: Severity = Severity.WARNING,
    docs_url: str = DOCS_URL,
    files_checked: int = 0,
    check_run_url: str | None = None,
) -> Plan:
    """What to post for the findings at a pull request's head commit.

    The review holds the new findings that are errors or have a fix, at least `min_severity`;
    every finding has its annotation on the check run (`check_run_url`, linked from the review)."""
    ordered = sorted(findings, key=_order)
    texts = {path: split_lines(text) for path, text in head_texts.items()}
    voice = render.Renderer(by_id(), docs_url, texts)
    pairs = [(f, fingerprint(f, head_texts.get(f.path, ""))) for f in ordered]
    new = [(f, fp) for f, fp in pairs if f.rule != SKIPPED.id and fp not in already_commented]
    reviewed = [(f, fp) for f, fp in new if _goes_inline(f, min_severity)]

    hunks = {c.path: parse_patch(c.patch) for c in changes if c.status != "removed" and c.patch is not None}
    inline: list[_Placed] = []
    outside: list[Group] = []
    for group in _groups(reviewed):
        placed = _place(group, hunks[group.path], texts.get(group.path)) if group.path in hunks else None
        if placed is None:
            outside.append(group)
        else:
            inline.append(placed)
    inline = _by_object(inline, hunks, texts, voice)
    inline.sort(key=lambda p: (-p.group.rank, p.group.path, p.start_line or p.line, p.line))
    outside.sort(key=lambda g: (-g.rank, g.path, g.line))
    limit = max(max_comments, 0)
    kept, overflow = inline[:limit], [p.group for p in inline[limit:]]

    comments = tuple(voice.comment(p.group, p.line, p.start_line, p.suggestion) for p in kept)
    review_body = voice.review_body(
        render.ReviewParts(
            [p.group for p in kept],
            outside,
            overflow,
            limit,
            [f.severity for f, _ in new if not _goes_inline(f, min_severity)],
        ),
        check_run_url,
    )
    posted_error = any(f.severity is Severity.ERROR for f, _ in reviewed)
    title = render.title(ordered, files_checked)
    one_click: dict[str, int] = {}
    for p in kept:
        if p.suggestion is not None and voice.fits(p.group, p.suggestion):
            one_click[p.group.path] = one_click.get(p.group.path, 0) + 1
    return Plan(
        comments=comments,
        review_body=review_body,
        review_event="REQUEST_CHANGES" if request_changes and posted_error and review_body else "COMMENT",
        annotations=tuple(voice.annotation(f) for f in ordered),
        conclusion="failure" if any(f.severity is Severity.ERROR for f in ordered) else "success",
        title=title,
        summary=voice.summary(ordered, title, files_checked, one_click),
        fingerprints=frozenset(fp for _, fp in pairs),
    )


def group_annotations(annotations: Sequence[Annotation]) -> list[Annotation]:
    """One annotation per place: findings on the same lines of a file share it (GitHub shows one
    box per place anyway), which keeps the check-run requests few on large pull requests."""
    places: dict[tuple[str, int, int], list[Annotation]] = {}
    for annotation in annotations:
        places.setdefault((annotation.path, annotation.start_line, annotation.end_line), []).append(annotation)
    return [items[0] if len(items) == 1 else render.merged_annotation(items) for items in places.values()]

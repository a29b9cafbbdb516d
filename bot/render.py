"""Every text the bot posts: review comments and bodies, annotations, check run titles and summaries."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.fingerprint import marker
from bot.limits import MAX_ANNOTATION_BYTES, MAX_BODY, MAX_OUTPUT, MAX_TITLE, clip_bytes, clip_text
from bot.markdown import block, code, inert, plural, severity_counts
from bot.outputs import Annotation, AnnotationLevel, Button, CheckOutput, Group, Plan, ReviewComment
from rules.fixes import EditConflict, apply
from rules.model import Finding, LineEdit, Rule, Severity
from rules.registry import SKIPPED

_LEVEL: dict[Severity, AnnotationLevel] = {
    Severity.ERROR: "failure",
    Severity.WARNING: "warning",
    Severity.NOTICE: "notice",
}
_LEVEL_RANK: dict[AnnotationLevel, int] = {"notice": 0, "warning": 1, "failure": 2}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")

RERUN = Button("Re-run unroot", "Analyse this commit again")
IN_PROGRESS = CheckOutput("Checking for root containers", "unroot is reading the changed files.")
PUBLISHING = "unroot is publishing its findings."  # the summary while annotations are added
INTERRUPTED_TITLE = "unroot was interrupted: the server restarted"
SUMMARY_TRUNCATED = "... (summary truncated)"
SUPPRESSING = [
    "### Suppressing a finding",
    "Fix it if you can. Otherwise record why, where the reviewer sees it:",
    "- Dockerfile: `# unroot: ignore=ID reason` directly above the instruction "
    "(or above the final `FROM` for the whole stage).",
    '- Kubernetes: the annotation `unroot.dev/ignore: "ID"` (comma-separated IDs) in the object\'s '
    "or its pod template's `metadata`.",
    "- A whole rule: `rules: {ID: off}` in `.github/unroot.yml`.",
]


# ---------------------------------------------------------------- check run texts of the job


def failure_output(reason: str, sha: str, *, retrying: bool = False) -> CheckOutput:
    """The run of a job that could not finish: why, and what happens next."""
    after = (
        "unroot will try again by itself in a while; **Re-run unroot** tries now."
        if retrying
        else "Use **Re-run unroot** to try again."
    )
    return CheckOutput(
        f"unroot could not finish: {reason}"[:MAX_TITLE],
        f"unroot could not finish analysing {sha[:12]}: {inert(reason)}\n\n{after}",
        RERUN,
    )


def interrupted_output(sha: str) -> CheckOutput:
    """The run of a job cut short, or never started, because the server stopped."""
    return CheckOutput(
        INTERRUPTED_TITLE,
        f"unroot stopped before it finished {sha[:12]}. Use **Re-run unroot** to check it again.",
        RERUN,
    )


def with_config_note(summary: str, problem: str | None) -> str:
    """The summary, led by a note when the repository's config was ignored (the summary is cut
    to make room for it, so there is one cut and one truncation note at most)."""
    if problem is None:
        return summary
    shown = problem if len(problem) <= 1000 else problem[:1000] + "..."  # it may quote the config file
    note = f"> **Note:** {inert(shown)}\n\n"
    return note + clip_text(summary, MAX_OUTPUT - len(note), SUMMARY_TRUNCATED)


def fallback_body(plan: Plan) -> str:
    """The review body with every inline comment moved into it (GitHub refused an anchor)."""
    moved = "\n\n---\n\n".join(comment.body for comment in plan.comments)
    return clip_text((plan.review_body + "\n\n" + moved).strip(), MAX_BODY)


# ---------------------------------------------------------------- fixes as text


def edit_order(edit: LineEdit) -> tuple[int, int, str]:
    """The canonical order of edits: by lines, then by replacement text."""
    return (edit.start_line, edit.end_line, edit.replacement)


def edits_of(finding: Finding) -> tuple[LineEdit, ...]:
    """A finding's fix edits in the canonical order (findings sharing a fix compare equal)."""
    if finding.fix is None:
        return ()
    return tuple(sorted(set(finding.fix.edits), key=edit_order))


def fix_diff(edits: Sequence[LineEdit], head_lines: Sequence[str]) -> str:
    """The edits as unified-diff hunks (no file headers), old lines from the head text."""
    out: list[str] = []
    shift = 0
    for edit in sorted(edits, key=lambda e: (e.start_line, e.end_line)):
        old = [line.rstrip("\r\n") for line in head_lines[max(edit.start_line, 1) - 1 : edit.end_line]]
        new = edit.replacement.split("\n")
        if new[-1] == "":
            new.pop()
        old_count = max(edit.end_line - edit.start_line + 1, 0)
        out.append(f"@@ -{edit.start_line},{old_count} +{edit.start_line + shift},{len(new)} @@")
        out.extend("-" + line for line in old)
        out.extend("+" + line for line in new)
        shift += len(new) - old_count
    return "\n".join(out) + "\n" if out else ""


def suggestion(edits: Sequence[LineEdit], head_lines: Sequence[str], start: int, end: int) -> str | None:
    """Lines start..end of the head text with `edits` applied, without the final newline."""
    if start < 1 or end > len(head_lines) or end < start:
        return None
    snippet = "".join(head_lines[start - 1 : end])
    shifted = [LineEdit(e.start_line - start + 1, e.end_line - start + 1, e.replacement) for e in edits]
    try:
        new = apply(snippet, shifted)
    except EditConflict:
        return None
    new = new.replace("\r\n", "\n").replace("\r", "\n")
    return new[:-1] if new.endswith("\n") else new


# ---------------------------------------------------------------- review, annotations, summary


def _why(rule: Rule | None) -> str:
    if rule is None:
        return ""
    return _SENTENCE_END.split(rule.why, maxsplit=1)[0]


def _markers(group: Group) -> str:
    return "\n".join(marker(fp) for fp in group.fingerprints)


def _too_large(group: Group) -> str:
    return f"_The fix is too large to show here; run {code('unroot fix ' + group.path)}._"


def _fix_summary(group: Group) -> list[str]:
    summaries = group.summaries
    return ["**Fix:** " + "; ".join(inert(summary) for summary in summaries)] if summaries else []


def _names(names: Sequence[str]) -> str:
    """`a, b, c`, or for many `c0, c1, c2, … c19 (20)`: a comment about 20 containers stays short."""
    if len(names) <= 6:
        return ", ".join(names)
    return f"{', '.join(names[:3])}, … {names[-1]} ({len(names)})"


def _collapsed(findings: Sequence[Finding]) -> list[str]:
    """The messages of one rule's findings, those identical but for the container's name as one
    line ("containers c0, c1, … c19 (20) in Deployment/many: ..."), the others as they are."""
    lines: dict[str, list[str]] = {}  # template (or message) -> container names, in order
    for finding in findings:
        name = finding.container
        quoted = f"container '{name}'"
        if name and finding.subject.startswith(quoted) and finding.message.startswith(finding.subject):
            template = "\x00" + finding.subject[len(quoted) :] + finding.message[len(finding.subject) :]
            lines.setdefault(template, []).append(name)
        else:
            lines.setdefault(finding.message, [])
    out: list[str] = []
    for template, names in lines.items():
        if not names:
            out.append(template)
        elif len(names) == 1:
            out.append(template.replace("\x00", f"container '{names[0]}'", 1))
        else:
            # "containers c0, c1 of Deployment/web: does not ...": a label, as the verb agrees with one container
            many = f"containers {_names(list(dict.fromkeys(names)))}"
            label, _, rest = template.partition("\x00 in ")
            workload, _, said = rest.partition(" ")
            out.append(f"{many} of {workload}: {said}" if not label and workload else template.replace("\x00", many, 1))
    return out


@dataclass(frozen=True)
class ReviewParts:
    """What a review body speaks of: the groups with an inline comment, those outside the diff, those
    over the comment limit, and the new findings left to the check run's annotations."""

    inline: Sequence[Group]
    outside: Sequence[Group]
    overflow: Sequence[Group]
    max_comments: int
    held: Sequence[Severity] = ()  # the severities of the new findings left to the annotations


@dataclass(frozen=True)
class Renderer:
    """Renders one plan's texts: the rules by ID, the docs link pattern, and the head texts by path."""

    rules: Mapping[str, Rule]
    docs_url: str
    texts: Mapping[str, Sequence[str]]

    def _lines(self, path: str) -> Sequence[str]:
        return self.texts.get(path, [])

    def rule_title(self, rule_id: str) -> str:
        rule = self.rules.get(rule_id)
        return f"{rule_id} {rule.title}" if rule is not None else rule_id

    def _explain(self, group: Group) -> list[str]:
        """Rule, title, severity, messages, why and docs link for every finding of a group."""
        by_rule: dict[tuple[str, Severity], list[Finding]] = {}
        for finding in group.findings:
            by_rule.setdefault((finding.rule, finding.severity), []).append(finding)
        parts: list[str] = []
        explained: set[str] = set()
        for (rule_id, severity), members in by_rule.items():
            rule = self.rules.get(rule_id)
            title = rule.title if rule is not None else ""
            lines = [f"**{rule_id} · {title}** ({severity.value})" if title else f"**{rule_id}** ({severity.value})"]
            unique = list(dict.fromkeys(inert(m) for m in _collapsed(members)))
            # A blank line ends the list, so the why does not join its last item.
            lines.extend(unique if len(unique) == 1 else [*(f"- {m}" for m in unique), ""])
            if rule_id not in explained:
                explained.add(rule_id)
                why = _why(rule)
                link = f"[{rule_id} docs]({self.docs_url.format(id=rule_id)})"
                lines.append(f"{why} {link}" if why else link)
            parts.append("\n".join(lines))
        return parts

    def _fix_block(self, group: Group, suggested: str | None) -> list[str]:
        parts = _fix_summary(group)
        if suggested is not None:
            parts.append(block("suggestion", suggested + "\n" if suggested else ""))
        elif group.edits:
            parts.append(block("diff", fix_diff(group.edits, self._lines(group.path))))
        return parts

    def _full_comment(self, group: Group, suggested: str | None) -> str:
        return "\n\n".join([*self._explain(group), *self._fix_block(group, suggested), _markers(group)])

    def fits(self, group: Group, suggested: str | None) -> bool:
        """Whether the group's comment keeps its fix (its suggestion) within GitHub's limit."""
        return len(self._full_comment(group, suggested)) <= MAX_BODY

    def comment(self, group: Group, line: int, start_line: int | None, suggested: str | None) -> ReviewComment:
        """The inline comment for a group placed at `line` (from `start_line`), with its suggestion."""
        head = self._explain(group)
        body = self._full_comment(group, suggested)
        if len(body) > MAX_BODY:
            body = "\n\n".join([*head, *_fix_summary(group), _too_large(group), _markers(group)])
        if len(body) > MAX_BODY:
            body = clip_text("\n\n".join([*head, _markers(group)]), MAX_BODY, "...")  # the markers stay
        return ReviewComment(group.path, line, start_line, body, group.fingerprints)

    def _body_line(self, group: Group) -> str:
        """One line for a group the review has no inline comment for: where, and which rules."""
        counts = Counter((f.rule, f.severity) for f in group.findings)
        rules = ", ".join(
            f"{self.rule_title(rule_id)} ({severity.value}{f', {n}' if n > 1 else ''})"
            for (rule_id, severity), n in counts.items()
        )
        return f"- {code(group.path)} line {group.line}: {rules}"

    def review_body(self, parts: ReviewParts, check_run_url: str | None = None) -> str:
        """The review's own text: counts, then one line for each finding with no inline comment, a
        link to the check run's annotations that hold the details, and the hidden markers."""
        groups = [*parts.inline, *parts.outside, *parts.overflow]
        if not groups:
            return ""
        found = severity_counts(f.severity for g in groups for f in g.findings)
        where = []
        if parts.inline:
            where.append(f"{plural(len(parts.inline), 'inline comment')}")
        if parts.outside:
            where.append(f"{len(parts.outside)} outside the diff")
        if parts.overflow:
            where.append(f"{len(parts.overflow)} over the {parts.max_comments}-comment limit")
        annotations = (
            f"[the check run's annotations]({check_run_url})" if check_run_url else "the check run's annotations"
        )
        lead = f"**unroot** found {found}: {', '.join(where)}."
        if parts.held:
            # Below review.min-severity, or a warning or notice without a fix: no inline slot for them.
            lead += f" Also {severity_counts(parts.held)} without an inline comment: see {annotations}."
        sections = [
            ("Outside the diff", parts.outside),
            (
                f"Beyond the first {plural(parts.max_comments, 'inline comment')}"
                if parts.max_comments
                else "Not commented inline (the inline limit is 0)",
                parts.overflow,
            ),
        ]
        out = [lead]
        marks: list[str] = []  # the inline comments carry their own
        tail = f"Details and fixes: {annotations}."
        size = len(lead) + len(tail)
        reserve = 100  # room for the "... and N more" line
        listed = [g for _, members in sections for g in members]
        shown = 0
        for heading, members in sections:
            lines: list[str] = []
            for group in members:
                line, mark = self._body_line(group), _markers(group)
                if size + len(heading) + len(line) + len(mark) + 8 + reserve > MAX_BODY:
                    break
                lines.append(line)
                marks.append(mark)
                size += len(line) + len(mark) + 2
                shown += 1
            if lines:
                out.append("\n".join([f"### {heading}", *lines]))
                size += len(heading) + 6
            if shown < len(listed) and len(lines) < len(members):
                break
        if shown < len(listed):
            out.append(f"... and {len(listed) - shown} more.")
        if listed:
            out.append(tail)
        if marks:
            out.append("\n".join(marks))
        return "\n\n".join(out)

    def annotation(self, finding: Finding) -> Annotation:
        """The check run annotation of one finding, its fix as a diff in raw_details."""
        start = max(finding.line, 1)
        end = max(finding.end_line, start)
        message = finding.message
        raw: str | None = None
        if finding.fix is not None:
            message += f"\nFix: {finding.fix.summary}"
            if finding.fix.edits:
                raw = clip_bytes(fix_diff(edits_of(finding), self._lines(finding.path)), MAX_ANNOTATION_BYTES)
        return Annotation(
            finding.path,
            start,
            end,
            _LEVEL[finding.severity],
            self.rule_title(finding.rule)[:MAX_TITLE],
            clip_bytes(message, MAX_ANNOTATION_BYTES),
            raw,
        )

    def summary(
        self, findings: Sequence[Finding], title: str, files_checked: int, one_click: Mapping[str, int] | None = None
    ) -> str:
        """The check run summary: what to do (the review's one-click fixes by file, `unroot fix`, what
        needs a hand-made fix), then counts by rule, skipped files, counts by file, how to suppress."""
        head = [f"## {title}"]
        if files_checked:
            head.append(f"Checked {plural(files_checked, 'file')}.")
        skipped = [f for f in findings if f.rule == SKIPPED.id]
        counted = [f for f in findings if f.rule != SKIPPED.id]
        todo = _what_to_do(counted, one_click or {})
        if todo:
            head.extend(["", *todo])
        by_rule = Counter((f.rule, f.severity) for f in counted)
        rule_rows: list[str] = []
        if by_rule:
            rule_rows = ["| Rule | Problem | Severity | Findings |", "|---|---|---|---|"]
            for (rule_id, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[0][1].rank, kv[0][0])):
                rule = self.rules.get(rule_id)
                title_text = (rule.title if rule is not None else "").replace("|", "\\|")
                rule_rows.append(
                    f"| [{rule_id}]({self.docs_url.format(id=rule_id)}) | {title_text} | {severity.value} | {count} |"
                )
        per_file: dict[str, Counter[Severity]] = {}
        for finding in counted:
            per_file.setdefault(finding.path, Counter())[finding.severity] += 1
        file_rows = [
            f"| {code(path)} | {c[Severity.ERROR]} | {c[Severity.WARNING]} | {c[Severity.NOTICE]} |"
            for path, c in sorted(
                per_file.items(), key=lambda kv: (-kv[1][Severity.ERROR], -kv[1][Severity.WARNING], kv[0])
            )
        ]
        skip_rows = [f"- {code(f.path)}: {inert(f.message)}" for f in sorted(skipped, key=lambda f: f.path)]
        fixed = "\n".join([*head, *rule_rows, *SUPPRESSING])
        budget = MAX_OUTPUT - len(fixed) - 200
        parts = ["\n\n".join(["\n".join(head), "\n".join(rule_rows)]) if rule_rows else "\n".join(head)]
        if skip_rows:
            shown = _bounded(skip_rows, budget // 3 if file_rows else budget, "skipped files")
            budget -= sum(len(s) + 1 for s in shown)
            parts.append("\n".join(["### Skipped files (UR001)", *shown]))
        if file_rows:
            table = ["| File | Errors | Warnings | Notices |", "|---|---|---|---|"]
            shown = _bounded(file_rows, budget - 100, "files")
            if len(shown) < len(file_rows):
                shown = [*shown[:-1], "", shown[-1]]  # the note goes after the table
            parts.append("\n".join(["### Files", *table, *shown]))
        parts.append("\n".join(SUPPRESSING))
        return clip_text("\n\n".join(parts), MAX_OUTPUT, SUMMARY_TRUNCATED)


def _paths(paths: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(code(p) for p in paths[:most])
    return shown if len(paths) <= most else f"{shown} and {len(paths) - most} more"


def _what_to_do(findings: Sequence[Finding], one_click: Mapping[str, int]) -> list[str]:
    """The summary's lead: the review's one-click fixes and the files, the command that fixes
    everything fixable, and the rules whose findings need a hand-made fix."""
    fixable = list(dict.fromkeys(f.path for f in findings if edits_of(f)))
    # Notices without edits are hardening, some fixed in a second pass: not work the summary asks for.
    manual = Counter(f.rule for f in findings if not edits_of(f) and f.severity is not Severity.NOTICE)
    lines: list[str] = []
    if len(fixable) <= 5:
        run = code(f"unroot fix {' '.join(shlex.quote(p) for p in fixable)}")
    else:
        run = f"{code('unroot fix')} on the {len(fixable)} files ({_paths(fixable)})"
    clicks = sum(one_click.values())
    if clicks:
        fixes = "1 one-click fix" if clicks == 1 else f"{clicks} one-click fixes"
        lines.append(f"**{fixes}** in the review for {_paths(list(one_click))}; or run {run}.")
    elif fixable:
        lines.append(f"**{plural(len(fixable), 'file')} with fixes:** run {run}.")
    if manual:
        rules = ", ".join(f"{rule_id} ({n})" for rule_id, n in sorted(manual.items(), key=lambda kv: (-kv[1], kv[0])))
        total = sum(manual.values())
        verb = "needs" if total == 1 else "need"
        lines.append(f"**{plural(total, 'finding')} {verb} a hand-made fix** (see the annotations): {rules}.")
    return lines


def title(findings: Sequence[Finding], files_checked: int) -> str:
    """The check run title: what was found, in how many files."""
    if not findings:
        return "No Dockerfiles or manifests changed" if files_checked == 0 else "No root containers found"
    found = severity_counts(f.severity for f in findings)
    return f"{found} in {plural(len({f.path for f in findings}), 'file')}"


def _bounded(lines: Sequence[str], budget: int, what: str) -> list[str]:
    """As many of `lines` as fit `budget` characters, then a note on how many were left out."""
    out: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        if used + len(line) + 1 > budget - 60:
            out.append(f"... and {len(lines) - n} more {what}")
            break
        out.append(line)
        used += len(line) + 1
    return out


def merged_annotation(items: Sequence[Annotation]) -> Annotation:
    """One annotation for several findings on the same lines (GitHub shows one box per place)."""
    first = items[0]
    level = max((a.annotation_level for a in items), key=lambda lvl: _LEVEL_RANK.get(lvl, 0))
    ids = ", ".join(dict.fromkeys(a.title.split(" ", 1)[0] for a in items))
    message = "\n".join(f"- {a.title}: {a.message}" for a in items)
    details = "\n\n".join(dict.fromkeys(a.raw_details for a in items if a.raw_details)) or None
    return Annotation(
        first.path,
        first.start_line,
        first.end_line,
        level,
        f"{ids}: {len(items)} findings"[:MAX_TITLE],
        clip_bytes(message, MAX_ANNOTATION_BYTES),
        clip_bytes(details, MAX_ANNOTATION_BYTES) if details else None,
    )

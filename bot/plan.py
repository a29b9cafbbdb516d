"""Decide what the bot says on a pull request (review comments, review body, check run output) as pure data."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.report import DOCS_URL
from rules.fixes import EditConflict, apply, merge_edits, split_lines
from rules.model import Finding, LineEdit, Rule, Severity
from rules.registry import SKIPPED, by_id

MAX_BODY = 65536  # review and review comment bodies
MAX_SUMMARY = 65535  # check run output.summary
MAX_ANNOTATION_BYTES = 65535  # annotation message and raw_details ("64 KB")
MAX_ANNOTATION_TITLE = 255

_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_MARKER = re.compile(r"<!-- unroot:(UR\d+:[^\s<>]+?:[0-9a-f]{12}) -->")
_FENCE_LINE = re.compile(r"(`{3,}|~{3,})(.*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class FileChange:
    """One entry of GitHub's "list pull request files" (or a compare's "files")."""

    path: str
    status: str  # added | modified | renamed | removed | copied | changed | unchanged
    patch: str | None  # unified diff hunks without file headers; None when GitHub omits it


@dataclass(frozen=True)
class Hunk:
    """The RIGHT side of one hunk: the range its header covers and the lines a comment may target."""

    new_start: int
    new_end: int  # inclusive; new_start - 1 for a hunk with no right-side lines
    right_lines: frozenset[int]  # added ('+') and context (' ') lines


@dataclass(frozen=True)
class ReviewComment:
    """One inline review comment, anchored on the RIGHT side of the diff."""

    path: str
    line: int  # last line of the range
    start_line: int | None  # only for multi-line comments: < line, same hunk, start_side RIGHT
    body: str  # Markdown, ending with the hidden fingerprint marker(s)
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class Annotation:
    """One check run annotation."""

    path: str
    start_line: int
    end_line: int
    annotation_level: str  # failure | warning | notice
    title: str
    message: str
    raw_details: str | None


@dataclass(frozen=True)
class Plan:
    """Everything the bot will say about one head commit."""

    comments: tuple[ReviewComment, ...]
    review_body: str  # "" when there is nothing new to say (then no review is posted)
    review_event: str  # COMMENT | REQUEST_CHANGES
    annotations: tuple[Annotation, ...]
    conclusion: str  # failure | success
    title: str
    summary: str
    fingerprints: frozenset[str]  # of every current finding


# ---------------------------------------------------------------- diffs


def parse_patch(patch: str) -> list[Hunk]:
    """The hunks of a GitHub `patch`; tolerant of CRLF, "\\ No newline" lines and garbage."""
    lines = patch.split("\n")
    hunks: list[Hunk] = []
    i = 0
    while i < len(lines):
        header = _HUNK.match(lines[i])
        i += 1
        if header is None:
            continue
        old_left = 1 if header[2] is None else int(header[2])
        new_start = int(header[3])
        new_left = 1 if header[4] is None else int(header[4])
        new_end = new_start + new_left - 1
        right: set[int] = set()
        current = new_start
        while i < len(lines) and (old_left > 0 or new_left > 0):
            line = lines[i].rstrip("\r")
            if _HUNK.match(line):
                break
            if line == "" and i == len(lines) - 1:
                break  # the patch's own final newline, not an empty context line
            i += 1
            tag = line[:1]
            if tag == "+" or tag == " " or tag == "":  # "" is a context line whose space was stripped
                if new_left > 0:
                    if current >= 1:
                        right.add(current)
                    current += 1
                    new_left -= 1
                if tag != "+" and old_left > 0:
                    old_left -= 1
            elif tag == "-":
                old_left = max(old_left - 1, 0)
            elif tag == "\\":
                continue  # "\ No newline at end of file"
            else:
                i -= 1
                break  # not part of a hunk: stop here, look for the next header
        hunks.append(Hunk(new_start, new_end, frozenset(right)))
    return hunks


def _hunk_holding(hunks: Sequence[Hunk], start: int, end: int) -> Hunk | None:
    """The hunk whose right_lines hold every line start..end, if any."""
    for hunk in hunks:
        if all(n in hunk.right_lines for n in range(start, end + 1)):
            return hunk
    return None


# ---------------------------------------------------------------- fingerprints


def fingerprint(finding: Finding, head_text: str) -> str:
    """`RULE:path:hash`, stable while the rule, path, subject and anchored lines' text stay the same."""
    lines = split_lines(head_text)
    anchored = "\n".join(line.rstrip() for line in lines[max(finding.line, 1) - 1 : max(finding.end_line, finding.line)])
    key = "\x00".join((finding.rule, finding.path, finding.subject, anchored))
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    # The path is percent-encoded: a hostile file name must not close the HTML comment
    # ("-->") or forge another marker.
    return f"{finding.rule}:{quote(finding.path, safe='/')}:{digest}"


def marker(fp: str) -> str:
    """The hidden HTML comment that carries a fingerprint in a comment body."""
    return f"<!-- unroot:{fp} -->"


def fingerprints_in(body: str) -> set[str]:
    """Every fingerprint marked in a comment or review body, where the bot writes them: a marker
    alone on its line, outside code blocks. Repository text the bot quotes (a suggestion, a
    diff) sits inside fences, so a marker planted in a file never counts."""
    found: set[str] = set()
    fence = ""
    for line in body.split("\n"):
        stripped = line.strip()
        opening = _FENCE_LINE.match(stripped)
        if fence:
            if opening and opening.group(1).startswith(fence) and not opening.group(2).strip():
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = _MARKER.fullmatch(stripped)
        if match:
            found.add(match.group(1))
    return found


# ---------------------------------------------------------------- Markdown helpers


def _fence(content: str) -> str:
    """A backtick fence longer than any backtick run in `content` (at least three)."""
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    return "`" * max(3, longest + 1)


def _block(language: str, content: str) -> str:
    fence = _fence(content)
    inner = content if content == "" or content.endswith("\n") else content + "\n"
    return f"{fence}{language}\n{inner}{fence}"


def _defang(text: str) -> str:
    """Text from the repository (paths, container names) must not open an HTML comment: a
    planted `<!-- unroot:... -->` would pass for one of our fingerprint markers."""
    return text.replace("<!--", "<!\u200b--")


_MARKDOWN = re.compile(r"([\\`*_\[\]<>!|~])")
_MENTION = re.compile(r"([@#])(?=\w)")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")


def inert(text: str) -> str:
    """Repository text (names, messages that quote them, fix summaries) as Markdown that renders
    as the same characters and does nothing: no HTML, link, image or emphasis, no @-mention or
    #-reference that would notify someone or link an issue in the bot's voice."""
    text = _defang(text).replace("&", "&amp;")
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _MENTION.sub("\\1\u2060", text)  # a word joiner: shown as nothing, breaks the mention
    return _AUTOLINK.sub(lambda m: m.group(0).replace(":", ":\u2060").replace("www.", "www\u2060."), text)


def _code(text: str) -> str:
    """Inline code that survives backticks and pipes inside `text`."""
    text = _defang(text).replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _clip(text: str, limit: int, note: str) -> str:
    """`text` cut at a line break so that it plus `note` fits `limit` characters."""
    if len(text) <= limit:
        return text
    room = max(limit - len(note) - 1, 0)
    cut = text.rfind("\n", 0, room)
    return text[: cut if cut > 0 else room] + "\n" + note


def _clip_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    note = "\n... (truncated)"
    return data[: limit - len(note)].decode("utf-8", "ignore") + note


def _why(rule: Rule | None) -> str:
    if rule is None:
        return ""
    return _SENTENCE_END.split(rule.why, maxsplit=1)[0]


def _rule_title(rules: Mapping[str, Rule], rule_id: str) -> str:
    rule = rules.get(rule_id)
    return f"{rule_id} {rule.title}" if rule is not None else rule_id


# ---------------------------------------------------------------- fixes as text


def _edits(finding: Finding) -> tuple[LineEdit, ...]:
    if finding.fix is None:
        return ()
    return tuple(sorted(set(finding.fix.edits), key=lambda e: (e.start_line, e.end_line, e.replacement)))


def _fix_diff(edits: Sequence[LineEdit], head_lines: Sequence[str]) -> str:
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


def _suggestion(edits: Sequence[LineEdit], head_lines: Sequence[str], start: int, end: int) -> str | None:
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


# ---------------------------------------------------------------- grouping and placement


@dataclass(frozen=True)
class _Group:
    """Findings that one comment covers: those sharing a fix, or a single finding."""

    path: str
    findings: tuple[Finding, ...]
    fingerprints: tuple[str, ...]
    edits: tuple[LineEdit, ...]

    @property
    def rank(self) -> int:
        return max(f.severity.rank for f in self.findings)

    @property
    def summaries(self) -> list[str]:
        return list(dict.fromkeys(f.fix.summary for f in self.findings if f.fix is not None))

    @property
    def line(self) -> int:
        return min(max(f.line, 1) for f in self.findings)


@dataclass(frozen=True)
class _Placed:
    group: _Group
    line: int
    start_line: int | None
    suggestion: str | None


def _order(finding: Finding) -> tuple[int, str, int, int, str]:
    return (-finding.severity.rank, finding.path, finding.line, finding.end_line, finding.rule)


def _span(edits: Sequence[LineEdit]) -> tuple[int, int]:
    """The lines a suggestion made of `edits` replaces (an insertion holds its line)."""
    start = min(e.start_line for e in edits)
    return start, max(max(e.end_line for e in edits), start)


def _groups(pairs: Sequence[tuple[Finding, str]]) -> list[_Group]:
    """Findings whose fixes touch overlapping lines share one comment; the others get one each.

    Overlapping, not only equal: the fix of a container running as UID 0 edits the pod's and
    the container's securityContext, the seccomp fix the pod's alone. Two suggestions over the
    same lines could not both be committed, so such findings get one suggestion with all edits."""
    clusters: list[list[int]] = []  # indices into pairs
    by_path: dict[str, list[int]] = {}
    for n, (finding, _) in enumerate(pairs):
        if _edits(finding):
            by_path.setdefault(finding.path, []).append(n)
        else:
            clusters.append([n])
    for indices in by_path.values():
        spans = {n: _span(_edits(pairs[n][0])) for n in indices}
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
    groups: list[_Group] = []
    for cluster in sorted((sorted(c) for c in clusters), key=lambda c: c[0]):
        members = [pairs[n] for n in cluster]
        edits = {e for finding, _ in members for e in _edits(finding)}
        groups.append(
            _Group(
                members[0][0].path,
                tuple(f for f, _ in members),
                tuple(dict.fromkeys(fp for _, fp in members)),
                tuple(sorted(edits, key=lambda e: (e.start_line, e.end_line, e.replacement))),
            )
        )
    return groups


def _place(group: _Group, hunks: Sequence[Hunk], head_lines: Sequence[str] | None) -> _Placed | None:
    """Where the group's comment goes inside the diff, with its suggestion; None when outside it."""
    if group.edits and head_lines is not None:
        try:
            edits = merge_edits(group.edits)
        except EditConflict:
            edits = []
        if edits:
            start = min(e.start_line for e in edits)
            end = max(e.end_line for e in edits)
            if _hunk_holding(hunks, start, end) is not None:
                text = _suggestion(edits, head_lines, start, end)
                if text is not None:
                    return _Placed(group, end, start if start < end else None, text)
    for finding in group.findings:
        line = max(finding.line, 1)
        hunk = _hunk_holding(hunks, line, line)
        if hunk is None:
            continue
        end = max(finding.end_line, line)
        if end > line and all(n in hunk.right_lines for n in range(line, end + 1)):
            return _Placed(group, end, line, None)
        return _Placed(group, line, None, None)
    return None


# ---------------------------------------------------------------- rendering


def _explain(group: _Group, rules: Mapping[str, Rule], docs_url: str) -> list[str]:
    """Rule, title, severity, messages, why and docs link for every finding of a group."""
    by_rule: dict[tuple[str, Severity], list[str]] = {}
    for finding in group.findings:
        by_rule.setdefault((finding.rule, finding.severity), []).append(inert(finding.message))
    parts: list[str] = []
    explained: set[str] = set()
    for (rule_id, severity), messages in by_rule.items():
        rule = rules.get(rule_id)
        title = rule.title if rule is not None else ""
        lines = [f"**{rule_id} · {title}** ({severity.value})" if title else f"**{rule_id}** ({severity.value})"]
        unique = list(dict.fromkeys(messages))
        # A blank line ends the list, so the why does not join its last item.
        lines.extend(unique if len(unique) == 1 else [*(f"- {m}" for m in unique), ""])
        if rule_id not in explained:
            explained.add(rule_id)
            why = _why(rule)
            link = f"[{rule_id} docs]({docs_url.format(id=rule_id)})"
            lines.append(f"{why} {link}" if why else link)
        parts.append("\n".join(lines))
    return parts


def _fix_block(group: _Group, head_lines: Sequence[str], suggestion: str | None) -> list[str]:
    parts: list[str] = []
    summaries = group.summaries
    if summaries:
        parts.append("**Fix:** " + "; ".join(inert(summary) for summary in summaries))
    if suggestion is not None:
        parts.append(_block("suggestion", suggestion + "\n" if suggestion else ""))
    elif group.edits:
        parts.append(_block("diff", _fix_diff(group.edits, head_lines)))
    return parts


def _markers(group: _Group) -> str:
    return "\n".join(marker(fp) for fp in group.fingerprints)


def _too_large(group: _Group) -> str:
    return f"_The fix is too large to show here; run {_code('unroot fix ' + group.path)}._"


def _comment(placed: _Placed, head_lines: Sequence[str], rules: Mapping[str, Rule], docs_url: str) -> ReviewComment:
    group = placed.group
    head = _explain(group, rules, docs_url)
    body = "\n\n".join([*head, *_fix_block(group, head_lines, placed.suggestion), _markers(group)])
    if len(body) > MAX_BODY:
        summaries = group.summaries
        fix = ["**Fix:** " + "; ".join(inert(summary) for summary in summaries)] if summaries else []
        body = "\n\n".join([*head, *fix, _too_large(group), _markers(group)])
    if len(body) > MAX_BODY:
        markers = _markers(group)
        body = _clip("\n\n".join(head), MAX_BODY - len(markers) - 2, "...") + "\n\n" + markers
    return ReviewComment(group.path, placed.line, placed.start_line, body, group.fingerprints)


def _body_entry(group: _Group, head_lines: Sequence[str], rules: Mapping[str, Rule], docs_url: str) -> str:
    where = f"{_code(group.path)} line {group.line}"
    head = _explain(group, rules, docs_url)
    head[0] = f"{where}: {head[0]}"
    entry = "\n\n".join([*head, *_fix_block(group, head_lines, None), _markers(group)])
    if len(entry) > MAX_BODY // 4:
        summaries = group.summaries
        fix = ["**Fix:** " + "; ".join(inert(summary) for summary in summaries)] if summaries else []
        entry = "\n\n".join([*head, *fix, _too_large(group), _markers(group)])
    return entry


def _review_body(
    inline: Sequence[_Placed],
    outside: Sequence[_Group],
    overflow: Sequence[_Group],
    max_comments: int,
    texts: Mapping[str, list[str]],
    rules: Mapping[str, Rule],
    docs_url: str,
) -> str:
    groups = [p.group for p in inline] + list(outside) + list(overflow)
    if not groups:
        return ""
    counts = Counter(f.severity for g in groups for f in g.findings)
    found = ", ".join(
        _plural(counts[s], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE) if counts[s]
    )
    where = []
    if inline:
        where.append(f"{_plural(len(inline), 'inline comment')}")
    if outside:
        where.append(f"{len(outside)} outside the diff")
    if overflow:
        where.append(f"{len(overflow)} over the {max_comments}-comment limit")
    parts = [f"**unroot** found {found}: {', '.join(where)}."]
    sections = [("Outside the diff", outside), (f"Beyond the first {max_comments} inline comments", overflow)]
    entries: list[tuple[str, str]] = []  # (heading, entry): the heading goes before a section's first entry
    for heading, members in sections:
        for n, group in enumerate(members):
            entries.append((f"### {heading}" if n == 0 else "", _body_entry(group, texts.get(group.path, []), rules, docs_url)))
    size = len(parts[0])
    reserve = 100  # room for the "... and N more" line
    for n, (heading, entry) in enumerate(entries):
        text = f"{heading}\n\n{entry}" if heading else entry
        if size + 2 + len(text) + reserve > MAX_BODY:
            parts.append(f"... and {len(entries) - n} more (see the check run's annotations).")
            break
        parts.append(text)
        size += 2 + len(text)
    return "\n\n".join(parts)


def _annotation(finding: Finding, head_lines: Sequence[str], rules: Mapping[str, Rule]) -> Annotation:
    start = max(finding.line, 1)
    end = max(finding.end_line, start)
    message = finding.message
    raw: str | None = None
    if finding.fix is not None:
        message += f"\nFix: {finding.fix.summary}"
        if finding.fix.edits:
            raw = _clip_bytes(_fix_diff(_edits(finding), head_lines), MAX_ANNOTATION_BYTES)
    return Annotation(
        finding.path,
        start,
        end,
        _LEVEL[finding.severity],
        _rule_title(rules, finding.rule)[:MAX_ANNOTATION_TITLE],
        _clip_bytes(message, MAX_ANNOTATION_BYTES),
        raw,
    )


def _title(findings: Sequence[Finding], files_checked: int) -> str:
    if not findings:
        return "No Dockerfiles or manifests changed" if files_checked == 0 else "No root containers found"
    counts = Counter(f.severity for f in findings)
    found = ", ".join(
        _plural(counts[s], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE) if counts[s]
    )
    return f"{found} in {_plural(len({f.path for f in findings}), 'file')}"


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


def _summary(findings: Sequence[Finding], title: str, files_checked: int, rules: Mapping[str, Rule], docs_url: str) -> str:
    head = [f"## {title}"]
    if files_checked:
        head.append(f"Checked {_plural(files_checked, 'file')}.")
    skipped = [f for f in findings if f.rule == SKIPPED.id]
    counted = [f for f in findings if f.rule != SKIPPED.id]
    by_rule = Counter((f.rule, f.severity) for f in counted)
    rule_rows: list[str] = []
    if by_rule:
        rule_rows = ["| Rule | Problem | Severity | Findings |", "|---|---|---|---|"]
        for (rule_id, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[0][1].rank, kv[0][0])):
            rule = rules.get(rule_id)
            title_text = (rule.title if rule is not None else "").replace("|", "\\|")
            rule_rows.append(f"| [{rule_id}]({docs_url.format(id=rule_id)}) | {title_text} | {severity.value} | {count} |")
    help_lines = [
        "### Suppressing a finding",
        "Fix it if you can. Otherwise record why, where the reviewer sees it:",
        "- Dockerfile: `# unroot: ignore=ID reason` directly above the instruction "
        "(or above the final `FROM` for the whole stage).",
        '- Kubernetes: the annotation `unroot.dev/ignore: "ID"` (comma-separated IDs) in the object\'s '
        "or its pod template's `metadata`.",
        "- A whole rule: `rules: {ID: off}` in `.github/unroot.yml`.",
    ]
    per_file: dict[str, Counter[Severity]] = {}
    for finding in counted:
        per_file.setdefault(finding.path, Counter())[finding.severity] += 1
    file_rows = [
        f"| {_code(path)} | {c[Severity.ERROR]} | {c[Severity.WARNING]} | {c[Severity.NOTICE]} |"
        for path, c in sorted(per_file.items(), key=lambda kv: (-kv[1][Severity.ERROR], -kv[1][Severity.WARNING], kv[0]))
    ]
    skip_rows = [f"- {_code(f.path)}: {inert(f.message)}" for f in sorted(skipped, key=lambda f: f.path)]
    fixed = "\n".join([*head, *rule_rows, *help_lines])
    budget = MAX_SUMMARY - len(fixed) - 200
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
    parts.append("\n".join(help_lines))
    return _clip("\n\n".join(parts), MAX_SUMMARY, "... (summary truncated)")


# ---------------------------------------------------------------- the plan


def plan_review(
    findings: Sequence[Finding],
    changes: Sequence[FileChange],
    head_texts: Mapping[str, str],
    already_commented: frozenset[str] = frozenset(),
    *,
    max_comments: int = 30,
    request_changes: bool = False,
    docs_url: str = DOCS_URL,
    files_checked: int = 0,
) -> Plan:
    """What to post for the findings at a pull request's head commit."""
    rules = by_id()
    ordered = sorted(findings, key=_order)
    texts = {path: split_lines(text) for path, text in head_texts.items()}
    pairs = [(f, fingerprint(f, head_texts.get(f.path, ""))) for f in ordered]
    new = [(f, fp) for f, fp in pairs if f.rule != SKIPPED.id and fp not in already_commented]

    by_path = {change.path: change for change in changes}
    inline: list[_Placed] = []
    outside: list[_Group] = []
    for group in _groups(new):
        change = by_path.get(group.path)
        placed = None
        if change is not None and change.status != "removed" and change.patch is not None:
            placed = _place(group, parse_patch(change.patch), texts.get(group.path))
        if placed is None:
            outside.append(group)
        else:
            inline.append(placed)
    inline.sort(key=lambda p: (-p.group.rank, p.group.path, p.start_line or p.line, p.line))
    outside.sort(key=lambda g: (-g.rank, g.path, g.line))
    limit = max(max_comments, 0)
    kept, overflow = inline[:limit], [p.group for p in inline[limit:]]

    comments = tuple(_comment(p, texts.get(p.group.path, []), rules, docs_url) for p in kept)
    review_body = _review_body(kept, outside, overflow, limit, texts, rules, docs_url)
    posted_error = any(f.severity is Severity.ERROR for f, _ in new)
    title = _title(ordered, files_checked)
    return Plan(
        comments=comments,
        review_body=review_body,
        review_event="REQUEST_CHANGES" if request_changes and posted_error and review_body else "COMMENT",
        annotations=tuple(_annotation(f, texts.get(f.path, []), rules) for f in ordered),
        conclusion="failure" if any(f.severity is Severity.ERROR for f in ordered) else "success",
        title=title,
        summary=_summary(ordered, title, files_checked, rules, docs_url),
        fingerprints=frozenset(fp for _, fp in pairs),
    )


_LEVEL_RANK = {"notice": 0, "warning": 1, "failure": 2}


def group_annotations(annotations: Sequence[Annotation]) -> list[Annotation]:
    """One annotation per place: findings on the same lines of a file share it (GitHub shows one
    box per place anyway), which keeps the check-run requests few on large pull requests."""
    places: dict[tuple[str, int, int], list[Annotation]] = {}
    for annotation in annotations:
        places.setdefault((annotation.path, annotation.start_line, annotation.end_line), []).append(annotation)
    grouped: list[Annotation] = []
    for (path, start, end), items in places.items():
        if len(items) == 1:
            grouped.append(items[0])
            continue
        level = max((a.annotation_level for a in items), key=lambda lvl: _LEVEL_RANK.get(lvl, 0))
        ids = ", ".join(dict.fromkeys(a.title.split(" ", 1)[0] for a in items))
        message = "\n".join(f"- {a.title}: {a.message}" for a in items)
        details = "\n\n".join(dict.fromkeys(a.raw_details for a in items if a.raw_details)) or None
        grouped.append(
            Annotation(
                path, start, end, level, f"{ids}: {len(items)} findings"[:MAX_ANNOTATION_TITLE],
                _clip_bytes(message, MAX_ANNOTATION_BYTES), _clip_bytes(details, MAX_ANNOTATION_BYTES) if details else None,
            )
        )
    return grouped

"""The CLI's output formats: compiler-style text, JSON, and SARIF 2.1.0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.config import DOCS_URL
from bot.style import BOLD, DIM, GREEN, SEVERITY_COLOR, Painter
from rules.fixes import split_lines
from rules.model import Deferred, Finding, Severity

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


FIXABLE = "[fixable]"  # the mark of a finding `unroot fix` repairs (ruff's `[*]`, spelt out)


def _object(finding: Finding) -> str:
    """What a fix edits, within its file: the Kubernetes object, else the finding's subject (a Dockerfile stage)."""
    return finding.workload or finding.subject


def _finding_line(finding: Finding, paint: Painter) -> str:
    mark = f" {paint(FIXABLE, GREEN)}" if finding.fix is not None else ""
    return (
        f"{paint(finding.path, BOLD)}{paint(f':{finding.line}:', DIM)} {paint(finding.rule, BOLD)} "
        f"{paint(finding.severity.value, SEVERITY_COLOR[finding.severity])} {finding.message}{mark}"
    )


def _fix_lines(group: Sequence[Finding], paint: Painter) -> list[str]:
    """Each distinct fix summary of one object's findings, once, with how many findings it fixes."""
    by_summary: dict[str, list[Finding]] = {}
    for finding in group:
        if finding.fix is not None:
            by_summary.setdefault(finding.fix.summary, []).append(finding)
    out = []
    for summary, fixed in by_summary.items():
        rules = ", ".join(sorted({f.rule for f in fixed}))
        containers = len({f.container for f in fixed if f.container is not None})
        where = f" in {containers} containers" if containers > 1 else ""
        many = f"{len(fixed)} finding{'s' if len(fixed) != 1 else ''}"
        out.append(f"    {paint(f'fix for {many}{where} ({rules}):', GREEN)} {summary}")
    return out


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _closing_line(findings: Sequence[Finding], files_checked: int) -> str:
    counts = Counter(f.severity for f in findings)
    fixable = sum(1 for f in findings if f.fix is not None)
    # Fixes that wait for the others (readOnlyRootFilesystem beside a pod's other fixes) are
    # applied by the same `unroot fix`, in its second pass: counted apart, as they carry no edit yet.
    later = sum(1 for f in findings if f.fix is None and f.variant is Deferred.AFTER_OTHER_FIXES)
    line = (
        f"{_counted(counts[Severity.ERROR], 'error')}, {_counted(counts[Severity.WARNING], 'warning')}, "
        f"{_counted(counts[Severity.NOTICE], 'notice')} in {_counted(files_checked, 'file')}"
    )
    if fixable:
        line += f"; {fixable} fixable with `unroot fix`"
        if later:
            line += f" ({later} more in its second pass)"
    return line


def _statistics(findings: Sequence[Finding], paint: Painter) -> list[str]:
    """One line per rule and severity: count, ID, severity, fixable mark, title; most frequent first."""
    from rules.registry import by_id  # every rule's module: only the statistics need the titles

    titles = {rule_id: rule.title for rule_id, rule in by_id().items()}
    groups: dict[tuple[str, Severity], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.rule, finding.severity), []).append(finding)
    rows = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0][0], -item[0][1].rank))
    width = max((len(str(len(found))) for _key, found in rows), default=1)
    out = []
    for (rule, severity), found in rows:
        fixed = sum(1 for f in found if f.fix is not None)
        mark = FIXABLE if fixed == len(found) else f"[{fixed} fixable]" if fixed else ""
        out.append(
            f"{len(found):>{width}}  {paint(rule, BOLD)}  {paint(f'{severity.value:<7}', SEVERITY_COLOR[severity])}  "
            f"{paint(f'{mark:<13}', GREEN)}  {titles.get(rule, '')}".rstrip()
        )
    return out


def text(
    findings: Sequence[Finding],
    files_checked: int,
    *,
    color: bool = False,
    quiet: bool = False,
    statistics: bool = False,
) -> str:
    """`path:line: ID severity message`, one a line, like a compiler; each object's fixes once, after its
    findings; then a count. `quiet`: the finding lines alone; `statistics`: counts per rule instead of findings."""
    paint = Painter(color)
    out: list[str] = []
    if statistics:
        out.extend(_statistics(findings, paint))
    else:
        groups: dict[tuple[str, str], list[Finding]] = {}
        for finding in findings:
            groups.setdefault((finding.path, _object(finding)), []).append(finding)
        for group in groups.values():
            out.extend(_finding_line(finding, paint) for finding in group)
            if not quiet:
                out.extend(_fix_lines(group, paint))
    if not quiet:
        out.append(paint(_closing_line(findings, files_checked), BOLD))
    return "".join(line + "\n" for line in out)


def as_json(findings: Sequence[Finding]) -> str:
    """`{"findings": [...]}` in the documented shape."""
    import json  # only for --format json or sarif: the text report needs none

    return json.dumps({"findings": [f.to_json() for f in findings]}, indent=2) + "\n"


def _region_end(lines: list[str], end_line: int) -> dict[str, int]:
    """SARIF region end just past line `end_line`'s line break (or its last character)."""
    if end_line < len(lines):
        return {"endLine": end_line + 1, "endColumn": 1}
    last = lines[end_line - 1] if lines else ""
    return {"endLine": max(end_line, 1), "endColumn": len(last.rstrip("\r\n")) + 1}


def sarif(findings: Sequence[Finding], texts: dict[str, str]) -> str:
    """A SARIF 2.1.0 log; fixes become whole-line replacements."""
    from rules.registry import RULES  # every rule's module: only SARIF lists them all

    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.why},
            "helpUri": DOCS_URL.format(id=rule.id),
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        }
        for rule in RULES
    ]
    index = {rule.id: position for position, rule in enumerate(RULES)}
    results: list[dict[str, object]] = []
    for finding in findings:
        result: dict[str, object] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.path},
                        "region": {"startLine": finding.line, "endLine": finding.end_line},
                    }
                }
            ],
        }
        if finding.fix is not None and finding.path in texts:
            lines = split_lines(texts[finding.path])
            result["fixes"] = [
                {
                    "description": {"text": finding.fix.summary},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": finding.path},
                            "replacements": [
                                {
                                    "deletedRegion": {
                                        "startLine": edit.start_line,
                                        "startColumn": 1,
                                        **_region_end(lines, edit.end_line),
                                    },
                                    "insertedContent": {"text": edit.replacement},
                                }
                                for edit in finding.fix.edits
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "unroot", "informationUri": DOCS_URL.rsplit("/rules/", 1)[0], "rules": rules}
                },
                "results": results,
            }
        ],
    }
    import json

    return json.dumps(log, indent=2) + "\n"

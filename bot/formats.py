"""The CLI's output formats: compiler-style text, JSON, and SARIF 2.1.0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bot.config import DOCS_URL
from bot.markdown import plural
from bot.style import BOLD, DIM, GREEN, SEVERITY_COLOR, Painter
from rules.fixes import split_lines
from rules.model import Deferred, Finding, Severity

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}
# GitHub code scanning ranks results by `security-severity` (9.0+ critical, 7.0-8.9 high, 4.0-6.9
# medium, 0.1-3.9 low). Root in a container alone is high; what hands the node to the container
# (privileged, host namespaces, the runtime socket, host paths) is higher; a contradiction the
# kubelet refuses to start (UR203, UR220) is medium: broken, not exploitable.
SECURITY_SEVERITY = {
    "UR001": "1.0",  # a file not analysed: may hide findings, is none itself
    "UR101": "7.5",
    "UR102": "7.5",
    "UR103": "4.0",  # root only when the name maps to UID 0: the number makes it checkable
    "UR104": "6.0",  # sudo/setuid: a way back to root from a non-root user
    "UR105": "4.0",
    "UR201": "7.5",
    "UR202": "7.5",
    "UR203": "5.0",
    "UR204": "9.3",  # privileged: every device and capability, the node is one mount away
    "UR205": "7.0",
    "UR206": "8.1",  # SYS_ADMIN and friends break the container's confinement
    "UR207": "8.6",  # the node's processes or network, seen and reached
    "UR208": "2.0",
    "UR209": "7.0",
    "UR210": "4.0",  # the intended fields are silently ignored
    "UR211": "3.0",
    "UR212": "8.8",  # the node's files, writable by root in the container
    "UR213": "5.0",
    "UR214": "8.1",
    "UR215": "7.8",
    "UR216": "7.2",
    "UR217": "7.5",
    "UR218": "9.3",  # a HostProcess container is a process on the Windows node
    "UR219": "4.0",
    "UR220": "4.0",
    "UR301": "7.5",
    "UR302": "9.3",
    "UR303": "8.1",
    "UR304": "8.6",
    "UR305": "9.1",  # the runtime's socket is root on the host
    "UR306": "3.0",
}
# How often a result is right: "high" where the verdict depends on an image unroot may not see.
_PRECISION_HIGH = {"UR102", "UR103", "UR201", "UR220"}
_FAMILY_TAG = {"UR0": "unroot", "UR1": "dockerfile", "UR2": "kubernetes", "UR3": "docker-compose"}


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
        containers = sorted({f.container for f in fixed if f.container is not None})
        # The summary says "the container's securityContext": name it when one container has it.
        where = f" in {len(containers)} containers" if len(containers) > 1 else ""
        if len(containers) == 1 and "the container's" in summary:
            where = f" of container '{containers[0]}'"
        many = plural(len(fixed), "finding")
        out.append(f"    {paint(f'fix for {many}{where} ({rules}):', GREEN)} {summary}")
    return out


def _closing_line(findings: Sequence[Finding], files_checked: int) -> str:
    counts = Counter(f.severity for f in findings)
    fixable = sum(1 for f in findings if f.fix is not None)
    # Fixes that wait for the others (readOnlyRootFilesystem beside a pod's other fixes) are
    # applied by the same `unroot fix`, in its second pass: counted apart, as they carry no edit yet.
    later = sum(1 for f in findings if f.fix is None and f.variant is Deferred.AFTER_OTHER_FIXES)
    with_findings = len({f.path for f in findings})
    where = f"{with_findings} of {files_checked}" if findings and with_findings != files_checked else f"{files_checked}"
    line = (
        f"{plural(counts[Severity.ERROR], 'error')}, {plural(counts[Severity.WARNING], 'warning')}, "
        f"{plural(counts[Severity.NOTICE], 'notice')} in {where} file{'' if files_checked == 1 else 's'} checked"
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


def _rule_properties(rule_id: str) -> dict[str, object]:
    """GitHub code scanning's per-rule properties: its ranking, its tags, how often it is right."""
    tags = ["security", "containers", _FAMILY_TAG[rule_id[:3]]]
    if rule_id != "UR001":
        tags.append("external/cwe/cwe-250")  # Execution with Unnecessary Privileges
    return {
        "security-severity": SECURITY_SEVERITY[rule_id],
        "tags": tags,
        "precision": "high" if rule_id in _PRECISION_HIGH else "very-high",
    }


def installed_version() -> str | None:
    """The installed package's version; None when run from a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("unroot")
    except PackageNotFoundError:
        return None


def sarif(findings: Sequence[Finding], texts: dict[str, str], root: Path | None = None) -> str:
    """A SARIF 2.1.0 log for code scanning: URIs relative to %SRCROOT% (`root`, default the cwd),
    fingerprints that survive line moves, ranked rules; fixes become whole-line replacements."""
    from urllib.parse import quote

    from bot.baseline import repository_path
    from bot.fingerprint import fingerprint
    from rules.registry import RULES  # every rule's module: only SARIF lists them all

    base = Path(root or Path.cwd()).absolute()
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.why},
            "helpUri": DOCS_URL.format(id=rule.id),
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": _rule_properties(rule.id),
        }
        for rule in RULES
    ]
    index = {rule.id: position for position, rule in enumerate(RULES)}
    results: list[dict[str, object]] = []
    for finding in findings:
        relative = repository_path(finding.path, base)
        location = (
            {"uri": Path(relative).as_uri()}
            if relative.startswith("/")
            else {"uri": quote(relative), "uriBaseId": "%SRCROOT%"}
        )
        # The path in the fingerprint is the repository's, as the App's is: not the cwd's.
        fp = fingerprint(replace(finding, path=relative), texts.get(finding.path, ""))
        result: dict[str, object] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": {"startLine": finding.line, "endLine": finding.end_line},
                    }
                }
            ],
            "partialFingerprints": {"unroot/v1": fp},
        }
        if finding.fix is not None and finding.path in texts:
            lines = split_lines(texts[finding.path])
            result["fixes"] = [
                {
                    "description": {"text": finding.fix.summary},
                    "artifactChanges": [
                        {
                            "artifactLocation": location,
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
    version = installed_version() or "0.0.0"
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "unroot",
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": DOCS_URL.rsplit("/rules/", 1)[0],
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri().rstrip("/") + "/"}},
                "results": results,
            }
        ],
    }
    import json

    return json.dumps(log, indent=2) + "\n"

"""The CLI's output formats: compiler-style text, JSON, and SARIF 2.1.0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.config import DOCS_URL
from rules.fixes import split_lines
from rules.model import Finding, Severity

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def text(findings: Sequence[Finding], files_checked: int) -> str:
    """`path:line: ID severity message`, one a line, like a compiler, then a count."""
    out: list[str] = []
    for finding in findings:
        out.append(f"{finding.path}:{finding.line}: {finding.rule} {finding.severity.value} {finding.message}")
        if finding.fix is not None:
            out.append(f"    fix: {finding.fix.summary} (unroot fix {finding.path})")
    counts = Counter(f.severity for f in findings)
    out.append(
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, "
        f"{counts[Severity.NOTICE]} notices in {files_checked} files"
    )
    return "\n".join(out) + "\n"


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

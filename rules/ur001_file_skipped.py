"""UR001 file-skipped: a file that could not be analysed says so, rather than passing silently."""

from __future__ import annotations

from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR001",
    "file-skipped",
    FileKind.ANY,
    Severity.NOTICE,
    "The file could not be analysed",
    "A file that is not valid YAML or UTF-8, is binary, too large, a Helm template or an "
    "alias bomb is skipped with this notice, so a broken file never hides silently.",
    FixAvailability.NEVER,
    "Only the author can repair or render the file.",
)

MESSAGE = "Skipped: {reason}."
BINARY = "binary file"


def skipped(path: str, reason: str) -> Finding:
    """The one-line notice for a file that could not be analysed, saying why (every reader of files,
    the analysers, the CLI and the App, gives its own reasons)."""
    return RULE.finding(path, 1, MESSAGE.format(reason=reason), subject=path)


def too_large(size: int, limit: int) -> str:
    """The reason for a file over the size limit."""
    return f"{size:,} bytes is over the {limit:,}-byte limit"

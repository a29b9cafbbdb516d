"""Helm's errors sorted into the protocol's failure kinds, keeping Helm's own words short."""

from __future__ import annotations

import re
from pathlib import Path

from bot.helm.manifests import chart_relative
from rules.helm.render import RenderFailure

MAX_MESSAGE = 500  # characters: Helm's nested include errors run to kilobytes
MESSAGE_LINES = 4  # a schema violation takes three: the preamble, the chart, the value at fault
_EXECUTION_ERROR = re.compile(r"execution error at \((?P<path>[^():]+):(?P<line>\d+):(?P<column>\d+)\): (?P<text>.*)")
_MISSING_DEPENDENCIES = re.compile(r"found in Chart\.yaml, but missing in charts/ directory: (?P<names>.+)")
MISSING_DEPENDENCIES = "found in Chart.yaml, but missing in charts/ directory: {names}"  # Helm's wording
_OUT_OF_MEMORY = ("out of memory", "cannot allocate memory", "goroutine stack exceeds", "stack overflow")


def short(message: str) -> str:
    """Helm's first lines as one, without the CLI's "Error: " prefix, within MAX_MESSAGE characters."""
    lines = [line.strip() for line in message.splitlines() if line.strip()][:MESSAGE_LINES]
    text = " ".join(lines).removeprefix("Error: ") or "Helm gave no reason"
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def classify(message: str, chart_dir: Path) -> tuple[RenderFailure, str]:
    """The failure kind of Helm's error `message` for the chart in `chart_dir`, and the line to show."""
    text = short(message)
    if _MISSING_DEPENDENCIES.search(message):
        return RenderFailure.MISSING_DEPENDENCY, text
    found = _EXECUTION_ERROR.search(text)
    if found and _is_required_call(found, chart_dir):
        return RenderFailure.REQUIRED, text
    if any(sign in message for sign in _OUT_OF_MEMORY):
        return RenderFailure.RESOURCES, text
    return RenderFailure.TEMPLATE, text


def _is_required_call(found: re.Match[str], chart_dir: Path) -> bool:
    """Whether Helm's execution error points at a `required` call rather than a `fail` or another function.

    Helm reports both as "execution error at (file:line:column): text"; the column is the 0-based byte
    offset of the function's name on that line, so the template source tells them apart. A template
    Helm read from a subchart archive is not on disk: then the wording decides."""
    source = chart_dir / chart_relative(found["path"])
    try:
        line = source.read_text(encoding="utf-8", errors="replace").splitlines()[int(found["line"]) - 1]
    except (OSError, IndexError):
        return re.search(r"\brequired\b", found["text"], re.IGNORECASE) is not None
    return line[int(found["column"]) :].startswith("required")


def missing_dependencies(names: list[str]) -> str:
    """Helm's message for dependencies declared in Chart.yaml but not vendored under charts/."""
    return MISSING_DEPENDENCIES.format(names=", ".join(names))


def from_crash(stderr_head: str, memory_mb: int) -> tuple[RenderFailure, str]:
    """What a child that died mid-render says about why: Go's fatal error line, never its stack trace."""
    if any(sign in stderr_head for sign in _OUT_OF_MEMORY):
        return RenderFailure.RESOURCES, f"ran out of memory ({memory_mb} MB of address space) and was stopped"
    lines = [line for line in stderr_head.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith("fatal error:")]
    if fatal:
        reason = short(fatal[0])
    elif lines and lines[0].startswith("Traceback"):
        reason = short(lines[-1])  # a Python error in the child: its last line names it
    else:
        reason = short(stderr_head) if lines else "no message"
    return RenderFailure.TEMPLATE, f"Helm stopped unexpectedly: {reason}"

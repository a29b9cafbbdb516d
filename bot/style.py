"""Terminal colour for the CLI's text output: whether to use it, and how to paint a piece of text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from rules.model import Severity

COLOR_CHOICES = ("auto", "always", "never")

_RESET = "\x1b[0m"
BOLD, DIM, RED, YELLOW, CYAN, GREEN = "1", "2", "31", "33", "36", "32"
SEVERITY_COLOR = {Severity.ERROR: RED, Severity.WARNING: YELLOW, Severity.NOTICE: CYAN}


def wants_color(choice: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    """`--color always|never` as asked; `auto`: off under a non-empty NO_COLOR (no-color.org, it wins),
    on under a non-empty FORCE_COLOR other than 0, else on only for a terminal that is not `dumb`."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    try:
        return stream.isatty() and env.get("TERM") != "dumb"
    except ValueError:  # a closed stream
        return False


class Painter:
    """Wraps text in ANSI styles, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not codes or not text:
            return text
        return f"\x1b[{';'.join(codes)}m{text}{_RESET}"

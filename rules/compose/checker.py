"""What every compose rule shares while one file is checked: the file's lines, options, and value readers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.nodes import Node, ScalarNode

from rules.compose.parse import Entry, Service
from rules.kubernetes.nodes import as_bool, as_str, first_line
from rules.model import Options

# Why a finding gets no fix when what it would edit comes through an anchor.
ALIASED = (
    " No fix offered: the setting comes through a YAML anchor (an alias or a `<<:` merge key), and an"
    " edit there would change every service that uses it; set it on each service instead."
)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Interpolated:
    """A scalar as Compose reads it once `${VAR:-default}` is resolved to the defaults."""

    text: str | None  # None: some variable has no default, so the value is not known
    variables: tuple[str, ...]  # the variables it uses


def interpolate(text: str) -> Interpolated:
    """Compose's interpolation with every variable unset: `${V:-d}` and `${V-d}` give `d`; `$V`,
    `${V}`, `${V:?err}` and `${V:+alt}` leave the value unknown; `$$` is a literal `$`."""
    names: list[str] = []
    known = True

    def substitute(match: re.Match[str]) -> str:
        nonlocal known
        name = match.group(1) or match.group(5)
        names.append(name)
        if match.group(2) and not match.group(4):
            return match.group(3)
        known = False
        return ""

    parts = [_VARIABLE.sub(substitute, part) for part in text.split("$$")]
    result = "$".join(parts)
    return Interpolated(result if known else None, tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class FileContext:
    """One compose file under check."""

    path: str
    lines: tuple[str, ...]
    options: Options

    def line_of(self, service: Service, entry: Entry | None) -> int:
        """Where a finding about `entry` points: its key, or the service's name when it is inherited."""
        if entry is None or entry.inherited:
            return first_line(service.key)
        return first_line(entry.key)


def scalar(node: Node | None) -> str | None:
    """A scalar's text (numbers too, as Compose reads `user: 0`); None for collections and nulls."""
    return as_str(node) if isinstance(node, ScalarNode) else None


def is_true(node: Node | None) -> bool:
    """A YAML boolean true, plain (`true`, `yes`) or as Compose also accepts it, quoted `"true"`."""
    if as_bool(node) is True:
        return True
    text = scalar(node)
    return text is not None and text.lower() == "true"


def inherited_from(entry: Entry) -> str:
    """The note a message adds when a setting comes through a merge key."""
    return f" (set through a YAML merge key, from line {first_line(entry.key)})" if entry.inherited else ""

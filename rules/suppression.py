"""How users switch rules off in place: `# unroot: ignore=ID[,ID] reason` comments and the
`unroot.dev/ignore: "ID[,ID]"` annotation name rules the same way in every family."""

from __future__ import annotations

import re

# The text of a comment after its `#`: the IDs, then the reason (which the docs ask for).
_COMMENT = re.compile(r"^\s*unroot:\s*ignore=([A-Za-z0-9_,\s]+?)(?:\s+(.*))?$")


def rule_ids(listed: str) -> frozenset[str]:
    """The rule IDs of a comma-separated list, upper-cased ("ur201, UR204" -> UR201, UR204)."""
    return frozenset(part.strip().upper() for part in listed.split(",") if part.strip())


def ignored_by_comment(body: str) -> frozenset[str]:
    """The rule IDs a comment (its text after `#`) switches off; none when it is no suppression."""
    match = _COMMENT.match(body)
    return rule_ids(match.group(1)) if match else frozenset()

"""`unroot rules`: the rule catalogue as the registry holds it, for people (a table) and tools (JSON)."""

from __future__ import annotations

import json

from bot.config import DOCS_URL
from rules.registry import RULES


def as_rows() -> list[dict[str, str]]:
    """Every rule's ID, severity, fix availability, title and docs link, in the registry's order."""
    return [
        {
            "id": rule.id,
            "name": rule.name,
            "severity": rule.severity.value,
            "fixable": rule.fix_availability.value,
            "title": rule.title,
            "docs": DOCS_URL.format(id=rule.id),
        }
        for rule in RULES
    ]


def as_text() -> str:
    """One aligned line per rule: ID, severity, fixable (always/sometimes/never), title, docs link."""
    rows = as_rows()
    width = max(len(row["title"]) for row in rows)
    return "".join(
        f"{row['id']}  {row['severity']:<7}  {row['fixable']:<9}  {row['title']:<{width}}  {row['docs']}\n"
        for row in rows
    )


def as_json() -> str:
    """`{"rules": [...]}` with the fields of `as_rows`."""
    return json.dumps({"rules": as_rows()}, indent=2) + "\n"

"""Rendered templates as the protocol wants them: chart-relative paths, Helm's order, no NOTES or blanks."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SOURCE = re.compile(r"^# Source: (?P<path>\S.*)$", re.MULTILINE)
_DOCUMENT_START = re.compile(r"^---[ \t]*$", re.MULTILINE)


def chart_relative(path: str) -> str:
    """'web/templates/a.yaml' -> 'templates/a.yaml'; 'web/charts/sub/templates/b.yaml' -> 'charts/sub/…'.

    Helm names each template after the chart it belongs to; the first component is the chart's name."""
    _, _, rest = path.partition("/")
    return rest or path


def kept(rendered: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The (chart-relative path, text) pairs worth analysing, in the order given.

    NOTES.txt is a message for a person, not a manifest; a template that renders to whitespace
    (a disabled feature) has nothing to analyse."""
    return tuple(
        (chart_relative(path), text) for path, text in rendered if not path.endswith("/NOTES.txt") and text.strip()
    )


def split_template_output(output: str) -> list[tuple[str, str]]:
    """`helm template`'s stdout as (template path, text) pairs in the order Helm printed them.

    Helm prints each document as "---\\n# Source: chart/templates/x.yaml\\n<document>"; a template with
    several documents appears once per document, possibly apart (Helm orders them by kind), so the
    documents of one template are joined under its first appearance."""
    documents: dict[str, list[str]] = {}
    for chunk in _DOCUMENT_START.split(output):
        found = _SOURCE.search(chunk)
        if found is None:
            continue
        body = chunk[found.end() :].lstrip("\n")
        documents.setdefault(found["path"].strip(), []).append(body)
    return [(path, "---\n".join(parts)) for path, parts in documents.items()]

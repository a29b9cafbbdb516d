"""Validators for the REST bodies described by tests/data/openapi-subset.json (from @octokit/openapi)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Literal

import jsonschema

from .common import JSONValue

SUBSET_PATH = Path(__file__).parents[1] / "data" / "openapi-subset.json"


def _date_time(value: object) -> bool:
    """RFC 3339 date-time (what GitHub accepts for started_at/completed_at)."""
    if not isinstance(value, str):
        return True
    return bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value))


class OpenAPISubset:
    """Validators for the request and response bodies in tests/data/openapi-subset.json."""

    def __init__(self, document: dict[str, Any]) -> None:
        # GitHub answers `line: null` for an outdated review comment although the description
        # types it as a plain integer; let the fake say what GitHub says.
        comment = document.get("components", {}).get("schemas", {}).get("pull-request-review-comment", {})
        for name in ("line", "start_line", "original_line", "position"):
            prop = comment.get("properties", {}).get(name)
            if isinstance(prop, dict) and prop.get("type") == "integer":
                prop["type"] = ["integer", "null"]
        self.document = document
        self.source: dict[str, Any] = document.get("source", {})
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(_date_time)
        self._checker = checker
        self._validators: dict[str, Any] = {}

    @classmethod
    @functools.cache
    def load(cls, path: Path = SUBSET_PATH) -> OpenAPISubset:
        """The vendored subset (read once per process)."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _validator(self, kind: str, op: str) -> Any:
        key = f"{kind}/{op}"
        if key not in self._validators:
            root = {k: v for k, v in self.document.items() if k != "$ref"}
            root["$ref"] = f"#/{kind}/{op.replace('~', '~0').replace('/', '~1')}/schema"
            self._validators[key] = jsonschema.Draft4Validator(root, format_checker=self._checker)
        return self._validators[key]

    def has(self, kind: Literal["requests", "responses"], op: str) -> bool:
        """Whether the subset describes this operation's request/response body."""
        return op in self.document.get(kind, {})

    def errors(self, kind: Literal["requests", "responses"], op: str, instance: JSONValue) -> list[str]:
        """Validation messages ("at path: message"), best first; empty when valid."""
        if not self.has(kind, op):
            return []
        found = sorted(self._validator(kind, op).iter_errors(instance), key=jsonschema.exceptions.relevance)
        out = []
        for e in found:
            where = "/".join(map(str, e.absolute_path)) or "(root)"
            message = e.message if len(e.message) <= 200 else e.message[:200] + "…"
            rule = e.validator_value if isinstance(e.validator_value, int | str | bool) else "…"
            out.append(f"{where}: {message} ({e.validator}: {rule})")
        return out

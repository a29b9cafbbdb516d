"""What a handler gets (Ctx) and gives back (Reply), GitHub's error bodies, and its pagination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .common import API_DOCS, JSONValue, int_or
from .state import FakeRepo, Token


@dataclass
class Reply:
    """A handler's answer."""

    status: int
    body: JSONValue = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


def error(status: int, message: str, *, errors: list[Any] | None = None, doc: str = API_DOCS) -> Reply:
    """GitHub's error body."""
    body: dict[str, Any] = {"message": message, "documentation_url": doc}
    if errors is not None:
        body["errors"] = errors
    body["status"] = str(status)
    return Reply(status, body)


def not_found() -> Reply:
    """404 Not Found."""
    return error(404, "Not Found")


@dataclass
class Ctx:
    """What a handler gets: the request, path parameters, decoded body, the caller."""

    request: web.Request
    params: dict[str, str]
    query: Mapping[str, str]
    body: JSONValue
    api: str
    token: Token | None = None
    repo: FakeRepo | None = None

    @property
    def accept(self) -> str:
        """The Accept header, lowercased."""
        return self.request.headers.get("Accept", "").lower()

    def media(self, kind: str) -> bool:
        """Whether the caller asked for a custom media type (raw, object, diff…)."""
        return f"vnd.github.{kind}" in self.accept or f"vnd.github.v3.{kind}" in self.accept


def page(ctx: Ctx, items: Sequence[Any], default: int = 30) -> tuple[list[Any], dict[str, str]]:
    """Slice ITEMS by per_page/page (max 100) and build GitHub's Link header from the request URL."""
    per_page = min(100, max(1, int_or(ctx.query.get("per_page"), default)))
    number = max(1, int_or(ctx.query.get("page"), 1))
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(number - 1) * per_page : number * per_page])
    url = ctx.request.url

    def link(n: int, rel: str) -> str:
        return f'<{url.update_query(page=str(n))}>; rel="{rel}"'

    links: list[str] = []
    if number > 1:
        links.append(link(min(number - 1, last), "prev"))
    if number < last:
        links.append(link(number + 1, "next"))
        links.append(link(last, "last"))
    if number > 1:
        links.append(link(1, "first"))
    return chunk, ({"Link": ", ".join(links)} if links else {})

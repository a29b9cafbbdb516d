"""The route table (moto's urls.py): method, path template, handler, credentials, OpenAPI operation."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from . import graphql_api, manifests, rest_apps, rest_checks, rest_repos, rest_reviews
from .backend import GitHubState
from .replies import Ctx, Reply

Handler = Callable[[GitHubState, Ctx], Awaitable[Reply]]
Auth = Literal["jwt", "token", "none"]


@dataclass(frozen=True)
class Route:
    """One endpoint of the fake: a handler taking the state and the request's Ctx."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: Auth
    op: str | None  # the operationId in tests/data/openapi-subset.json that checks its bodies

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves METHOD PATH."""
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


def _template_pattern(template: str) -> re.Pattern[str]:
    greedy = {"path": ".*", "basehead": ".+", "ref": ".+"}

    def group(m: re.Match[str]) -> str:
        return f"(?P<{m.group(1)}>{greedy.get(m.group(1), '[^/]+')})"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", group, re.escape(template)) + "$")


_TABLE: tuple[tuple[str, str, Handler, Auth, str | None], ...] = (
    ("GET", "/app", rest_apps.get_app, "jwt", "apps/get-authenticated"),
    ("POST", "/app-manifests/{code}/conversions", manifests.convert, "none", "apps/create-from-manifest"),
    ("GET", "/app/installations/{installation_id}", rest_apps.get_installation, "jwt", None),
    (
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        rest_apps.create_token,
        "jwt",
        "apps/create-installation-access-token",
    ),
    ("GET", "/repos/{owner}/{repo}/installation", rest_apps.get_repo_installation, "jwt", "apps/get-repo-installation"),
    ("GET", "/repos/{owner}/{repo}", rest_repos.get_repo, "token", "repos/get"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", rest_repos.get_pull, "token", "pulls/get"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", rest_repos.list_files, "token", "pulls/list-files"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}", rest_repos.compare, "token", "repos/compare-commits"),
    ("GET", "/repos/{owner}/{repo}/contents", rest_repos.get_contents, "token", "repos/get-content"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}", rest_repos.get_contents, "token", "repos/get-content"),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", rest_repos.get_blob, "token", "git/get-blob"),
    ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", rest_repos.get_tree, "token", "git/get-tree"),
    ("POST", "/repos/{owner}/{repo}/check-runs", rest_checks.create_check_run, "token", "checks/create"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", rest_checks.get_check_run, "token", "checks/get"),
    (
        "PATCH",
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
        rest_checks.update_check_run,
        "token",
        "checks/update",
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
        rest_checks.list_annotations,
        "token",
        "checks/list-annotations",
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        rest_checks.list_check_runs,
        "token",
        "checks/list-for-ref",
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        rest_reviews.create_review,
        "token",
        "pulls/create-review",
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        rest_reviews.list_reviews,
        "token",
        "pulls/list-reviews",
    ),
    (
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
        rest_reviews.list_review_comments,
        "token",
        "pulls/list-review-comments",
    ),
    ("POST", "/graphql", graphql_api.graphql, "token", None),
)


def routes() -> list[Route]:
    """Every endpoint the fake serves; anything else is GitHub's 404."""
    return [Route(m, t, _template_pattern(t), h, a, op) for m, t, h, a, op in _TABLE]


def match(table: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving METHOD PATH and its path parameters, or None."""
    for route in table:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None

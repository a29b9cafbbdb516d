"""REST: the App, its installations and installation tokens."""

from __future__ import annotations

from typing import Any, cast

from .backend import GitHubState
from .common import int_or, iso
from .replies import Ctx, Reply, error, not_found
from .shapes import installation_json, integration, repo_json


async def get_app(gh: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, integration(gh, ctx.api))


async def get_installation(gh: GitHubState, ctx: Ctx) -> Reply:
    inst = gh.installations.get(int_or(ctx.params["installation_id"], -1))
    return Reply(200, installation_json(gh, ctx.api, inst)) if inst else not_found()


async def get_repo_installation(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = gh.find_repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
    if repo is None:
        return not_found()
    inst = next((i for i in gh.installations.values() if repo.full_name in i.repos), None)
    return Reply(200, installation_json(gh, ctx.api, inst)) if inst else not_found()


async def create_token(gh: GitHubState, ctx: Ctx) -> Reply:
    inst = gh.installations.get(int_or(ctx.params["installation_id"], -1))
    if inst is None:
        return not_found()
    if inst.suspended:
        return error(403, "This installation has been suspended")
    body = ctx.body if isinstance(ctx.body, dict) else {}
    wanted: set[str] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        by_name = {gh.repo(n).name: n for n in inst.repos}
        by_id = {gh.repo(n).id: n for n in inst.repos}
        names = [by_name.get(n) for n in body.get("repositories", [])]
        names += [by_id.get(i) for i in body.get("repository_ids", [])]
        if any(n is None for n in names):
            return error(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            )
        wanted = {cast(str, n) for n in names}
    value = gh.issue_token(inst.id, repos=wanted)
    token = gh.tokens[value]
    if isinstance(body.get("permissions"), dict):
        token.permissions = dict(body["permissions"])
    reply: dict[str, Any] = {
        "token": value,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected",
    }
    if wanted is not None:
        reply["repositories"] = [repo_json(gh, ctx.api, gh.repo(n)) for n in sorted(wanted)]
    return Reply(201, reply)

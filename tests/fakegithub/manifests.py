"""GitHub's App manifest flow: the web form that takes a manifest (and sends back a code), and the code's conversion."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from aiohttp import web

from .backend import GitHubState
from .keys import generate_app_key
from .replies import Ctx, Reply, error, not_found
from .shapes import integration
from .state import FakeApp, ManifestPost

CONVERSION_DOCS = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"


def _form_error(message: str) -> web.Response:
    return web.Response(status=422, text=f"<!doctype html><p>{message}</p>", content_type="text/html")


async def new_app_form(gh: GitHubState, request: web.Request) -> web.Response:
    """POST …/settings/apps/new: GitHub would show the form to confirm; the fake confirms and redirects back."""
    form = await request.post()
    raw = form.get("manifest")
    try:
        manifest = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        return _form_error("Invalid GitHub App configuration: the manifest is not a JSON object")
    hook = manifest.get("hook_attributes")
    if not isinstance(manifest.get("url"), str) or not isinstance(hook, dict) or not isinstance(hook.get("url"), str):
        return _form_error("Invalid GitHub App configuration: url and hook_attributes.url are required")
    redirect = manifest.get("redirect_url")
    if not isinstance(redirect, str):
        return _form_error("Invalid GitHub App configuration: redirect_url is required for the manifest flow")
    post = ManifestPost(manifest, request.query.get("state", ""), request.match_info.get("org", ""))
    gh.manifests.posts.append(post)
    query = {"code": post.code, **({"state": post.state} if post.state else {})}
    raise web.HTTPFound(f"{redirect}?{urlencode(query)}")


async def convert(gh: GitHubState, ctx: Ctx) -> Reply:
    """POST /app-manifests/{code}/conversions: the App with its key and secrets, once per code."""
    post = next((p for p in gh.manifests.posts if p.code == ctx.params["code"] and not p.converted), None)
    if post is None:
        return not_found()
    post.converted = True
    manifest = post.manifest
    key = generate_app_key()
    app_id = gh.manifests.next_app_id
    gh.manifests.next_app_id += 1
    name = str(manifest.get("name") or "unroot")
    slug = name.lower().replace(" ", "-")
    owner = post.organization or "octocat"
    # From here on the fake is this App: its JWTs verify, its installation tokens are issued.
    gh.app = FakeApp(app_id, slug, f"Iv1.manifest{app_id:08x}", key.private_pem, key.public_pem, name, owner)
    body = integration(gh, ctx.api)
    body.update(
        description=manifest.get("description"),
        permissions=dict(manifest.get("default_permissions") or {}),
        events=list(manifest.get("default_events") or []),
        client_id=gh.app.client_id,
        client_secret=secrets.token_hex(20),
        webhook_secret=secrets.token_hex(20) if manifest["hook_attributes"].get("active", True) else None,
        pem=key.private_pem,
    )
    if not isinstance(body["description"], str | None):
        return error(422, "description must be a string", doc=CONVERSION_DOCS)
    return Reply(201, body)

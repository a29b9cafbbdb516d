"""The setup page of an unconfigured server: registers the App through GitHub's manifest flow, keeps its credentials."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot import env_file
from bot.config import AppSettings, SettingsError
from bot.manifest import CALLBACK_PATH, is_public_url, manifest_for, new_app_url

log = logging.getLogger(__name__)
CONVERSION_TIMEOUT = 30.0  # seconds for GitHub to turn the code into credentials


@dataclass
class SetupFlow:
    """One registration: the manifest, where it goes, the state it must come back with, the outcome."""

    base_manifest: dict[str, Any]
    api_url: str
    web_url: str
    env_path: Path
    environment: Mapping[str, str]  # the server's environment: the new settings are read over it
    public_url: str = ""  # empty: derived from the request's host
    organization: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    configured: asyncio.Future[AppSettings] | None = None

    def outcome(self) -> asyncio.Future[AppSettings]:
        """Resolved with the App's settings once registered (made on the running loop)."""
        if self.configured is None:
            self.configured = asyncio.get_running_loop().create_future()
        return self.configured


FLOW = web.AppKey("setup-flow", SetupFlow)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "code{background:#f3f3f3;padding:0 .2rem}button{font-size:1.1rem;padding:.5rem 1.2rem}"
)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    # The page embeds the state that guards the callback: never cached, never framed.
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
    return web.Response(text=html, content_type="text/html", status=status, headers=headers)


def _public_url(request: web.Request, flow: SetupFlow) -> str:
    return flow.public_url or f"{request.scheme}://{request.host}"


def _items(title: str, values: Mapping[str, Any] | list[Any]) -> str:
    rows = (
        [f"<li><code>{escape(str(k))}</code>: {escape(str(v))}</li>" for k, v in values.items()]
        if isinstance(values, Mapping)
        else [f"<li><code>{escape(str(v))}</code></li>" for v in values]
    )
    return f"<h2>{escape(title)}</h2><ul>{''.join(rows)}</ul>"


async def setup_page(request: web.Request) -> web.Response:
    """What will be registered, and the button that posts the manifest to GitHub."""
    flow = request.app[FLOW]
    organization = request.query.get("org", flow.organization).strip()
    manifest = manifest_for(flow.base_manifest, _public_url(request, flow))
    owner = f"the organization <code>{escape(organization)}</code>" if organization else "your personal account"
    action = new_app_url(flow.web_url, flow.state, organization)
    body = (
        f"<p>This server has no GitHub App yet. The button registers <strong>{escape(str(manifest.get('name')))}"
        f"</strong> on {owner} at <code>{escape(flow.web_url)}</code>; GitHub asks you to confirm, then sends "
        f"you back here and the server keeps the App's ID, private key and webhook secret in "
        f"<code>{escape(str(flow.env_path))}</code> (readable by its owner only).</p>"
        f"<p>Webhook URL: <code>{escape(manifest['hook_attributes']['url'])}</code><br>"
        f"Redirect URL: <code>{escape(manifest['redirect_url'])}</code></p>"
        + _items("Permissions", manifest.get("default_permissions", {}))
        + _items("Events", manifest.get("default_events", []))
        + f'<form id="register" method="post" action="{escape(action)}">'
        f'<input type="hidden" name="manifest" value="{escape(json.dumps(manifest))}">'
        f'<button type="submit" id="create">Register the GitHub App</button></form>'
        f'<form method="get" action="/"><p>Register it for an organization instead: '
        f'<input name="org" value="{escape(organization)}" aria-label="organization"> '
        f"<button>Use this organization</button></p></form>"
    )
    if not is_public_url(_public_url(request, flow)):
        body = "<p><strong>The public URL is not an http(s) URL: start with --public-url.</strong></p>" + body
    return _page("Register unroot as a GitHub App", body)


def _failure(title: str, reason: str, status: int) -> web.Response:
    body = f"<p>{escape(reason)}</p><p><a href='/'>Start the registration again</a>.</p>"
    return _page(title, body, status)


async def _convert(flow: SetupFlow, code: str) -> dict[str, Any] | web.Response:
    """GitHub's answer to the code: the new App with its credentials, or the page saying why not."""
    url = f"{flow.api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    try:
        timeout = aiohttp.ClientTimeout(total=CONVERSION_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(url, headers=headers) as answer:
            status = answer.status
            data = await answer.json(content_type=None) if status == 201 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("app manifest conversion failed: %s", type(error).__name__)
        return _failure("GitHub could not be reached", f"The code could not be exchanged: {error!s:.200}", 502)
    if status in (404, 422):
        return _failure(
            "This registration code is not valid",
            "GitHub does not know this code: it was used already (a code works once) or it expired (after an hour).",
            400,
        )
    if status != 201 or not isinstance(data, dict):
        return _failure("GitHub refused the registration", f"GitHub answered HTTP {status}.", 502)
    return data


def _settings(flow: SetupFlow, app: Mapping[str, Any]) -> tuple[AppSettings, dict[str, str]]:
    """The settings the server runs with from now on, and the credentials to write."""
    credentials = {
        "GITHUB_APP_ID": str(app.get("id", "")),
        "GITHUB_WEBHOOK_SECRET": str(app.get("webhook_secret") or ""),
        "GITHUB_PRIVATE_KEY": str(app.get("pem", "")),
    }
    return AppSettings.from_env({**flow.environment, **credentials}), credentials


async def callback(request: web.Request) -> web.Response:
    """GitHub sends the browser back here with a code: exchange it, keep the credentials, switch to the App."""
    flow = request.app[FLOW]
    if flow.outcome().done():
        return _failure("The App is registered already", "This server has its App; restart it to use it.", 409)
    code, state = request.query.get("code", ""), request.query.get("state", "")
    if not hmac.compare_digest(state.encode(), flow.state.encode()):
        return _failure(
            "This registration did not start here",
            "The state GitHub sent back is not this server's: start the registration from this server's page.",
            400,
        )
    if not code:
        return _failure("No registration code", "GitHub sent no code back.", 400)
    app = await _convert(flow, code)
    if isinstance(app, web.Response):
        return app
    try:
        settings, credentials = _settings(flow, app)
        env_file.write_new(flow.env_path, credentials)
    except (SettingsError, ValueError, OSError) as error:
        reason = f"GitHub registered the App, but its credentials could not be kept: {error}"
        return _failure("The App's credentials were not saved", reason, 500)
    log.info("registered GitHub App %s; credentials in %s (mode 0600)", settings.app_id, flow.env_path)
    flow.outcome().set_result(settings)
    return _registered(app, flow.env_path)


def _registered(app: Mapping[str, Any], env_path: Path) -> web.Response:
    install = str(app.get("html_url", "")).rstrip("/") + "/installations/new"
    body = (
        f"<p>GitHub App <strong>{escape(str(app.get('name', '')))}</strong> (App ID {escape(str(app.get('id')))}) "
        f"is registered. Its ID, private key and webhook secret are in <code>{escape(str(env_path))}</code> "
        f"(mode 0600): keep that file secret, and start the server from this directory so it reads it again.</p>"
        f'<p>This server now runs as the App. <a id="install" href="{escape(install)}">Install it on your '
        f"repositories</a>.</p>"
    )
    return _page("unroot is registered", body)


def make_setup_app(flow: SetupFlow) -> web.Application:
    """The setup web app: the page at /, the callback; nothing else (no webhooks before there is an App)."""
    app = web.Application(client_max_size=64 * 1024)
    app[FLOW] = flow
    app.router.add_get("/", setup_page)
    app.router.add_get(CALLBACK_PATH, callback)
    return app

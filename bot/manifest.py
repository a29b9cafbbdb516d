"""The GitHub App manifest (bot/app.yml) made concrete for one server: its URLs, and where GitHub takes it."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

WEBHOOK_PATH = "/webhook"
CALLBACK_PATH = "/setup/callback"


def packaged_manifest() -> dict[str, Any]:
    """bot/app.yml as a mapping (the repository's app.yml links to it)."""
    from ruamel.yaml import YAML

    text = resources.files("bot").joinpath("app.yml").read_text(encoding="utf-8")
    data = YAML(typ="safe", pure=True).load(text)
    if not isinstance(data, dict):
        raise ValueError("bot/app.yml must be a mapping")
    return data


def manifest_for(base: dict[str, Any], public_url: str) -> dict[str, Any]:
    """BASE with its webhook and redirect URLs pointing at the server reachable at PUBLIC_URL."""
    root = public_url.rstrip("/")
    manifest = copy.deepcopy(base)
    manifest["hook_attributes"] = {**manifest.get("hook_attributes", {}), "url": root + WEBHOOK_PATH}
    manifest["redirect_url"] = root + CALLBACK_PATH
    return manifest


def web_url_for(api_url: str) -> str:
    """GitHub's web host for an API URL: api.github.com -> github.com; GHES https://HOST/api/v3 -> https://HOST."""
    base = api_url.rstrip("/")
    parts = urlsplit(base)
    if parts.hostname == "api.github.com":
        return "https://github.com"
    if base.endswith("/api/v3"):
        return base[: -len("/api/v3")]
    return base


def new_app_url(web_url: str, state: str, organization: str = "") -> str:
    """Where the manifest form posts: the personal account's, or an organization's, new-App page."""
    root = web_url.rstrip("/")
    owner = f"/organizations/{quote(organization, safe='')}" if organization else ""
    return f"{root}{owner}/settings/apps/new?{urlencode({'state': state})}"


def is_public_url(url: str) -> bool:
    """Whether URL can root the webhook and redirect URLs: http(s) with a host, no query or fragment."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment

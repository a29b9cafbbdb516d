"""Who is calling: the App's JWT, installation tokens, and what a token may see."""

from __future__ import annotations

import time

import jwt
from aiohttp import web

from .backend import GitHubState
from .replies import Reply, error, not_found
from .state import FakeRepo, Token


def credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    parts = header.split(None, 1)
    if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
        return None
    return parts[0].lower(), parts[1].strip()


def check_jwt(gh: GitHubState, request: web.Request) -> Reply | None:
    creds = credentials(request)
    if creds is None:
        return error(401, "A JSON web token could not be decoded")
    try:
        claims = jwt.decode(
            creds[1],
            gh.app.public_pem,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["iat", "exp", "iss"],
            },
        )
    except jwt.InvalidTokenError:
        return error(401, "A JSON web token could not be decoded")
    now = time.time()
    iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
    if not isinstance(iat, int) or iat > now:
        return error(401, "'Issued at' claim ('iat') must be an Integer representing a time in the past")
    if not isinstance(exp, int) or exp <= now:
        return error(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
            "the assertion expires",
        )
    if exp - iat > 600 or exp > now + 600:
        return error(401, "'Expiration time' claim ('exp') is too far in the future")
    if str(iss) not in (str(gh.app.app_id), gh.app.client_id):
        return error(
            401, "'Issuer' claim ('iss') must be an Integer" if not str(iss).isdigit() else "Integration not found"
        )
    return None


def check_token(gh: GitHubState, request: web.Request) -> Token | Reply:
    creds = credentials(request)
    if creds is None:
        return error(401, "Requires authentication")
    token = gh.tokens.get(creds[1])
    if token is None or not token.valid():
        return error(401, "Bad credentials")
    inst = gh.installations.get(token.installation_id)
    if inst is None:
        return error(401, "Bad credentials")
    if inst.suspended:
        return error(403, "This installation has been suspended")
    return token


def access(gh: GitHubState, token: Token, repo: FakeRepo | None, *, write: bool) -> Reply | None:
    if repo is None:
        return not_found()
    if gh.can_access(token, repo):
        return None
    if repo.private:
        return not_found()
    return error(403, "Resource not accessible by integration") if write else None

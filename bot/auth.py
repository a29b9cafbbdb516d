"""GitHub App authentication: the app's JWT and a per-installation token cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

# Refresh a token this long before GitHub says it expires, so a job never starts on one
# that dies half-way.
REFRESH_MARGIN_SECONDS = 300.0


def app_jwt(app_id: str, private_key: str | RSAPrivateKey, now: float | None = None) -> str:
    """An RS256 JWT for /app endpoints: issued 60 s in the past (clock drift), valid 9 minutes."""
    issued = int(now if now is not None else time.time()) - 60
    return jwt.encode({"iat": issued, "exp": issued + 9 * 60, "iss": app_id}, private_key, algorithm="RS256")


def load_key(pem: str) -> RSAPrivateKey:
    """Parse the PEM once: loading (and checking) an RSA key costs ~40 ms, signing ~1 ms."""
    key = load_pem_private_key(pem.encode("utf-8"), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the GitHub App private key is not an RSA key")
    return key


@dataclass(frozen=True)
class InstallationToken:
    """A token and when it stops working (epoch seconds)."""

    token: str = ""
    expires_at: float = 0.0


Fetch = Callable[[int, str], Awaitable[tuple[str, str]]]


class TokenCache:
    """Installation tokens cached per installation and refreshed before they expire.

    `fetch(installation_id, app_jwt)` asks GitHub for a new token and returns
    (token, expires_at ISO 8601). One fetch at a time per installation.
    """

    def __init__(
        self,
        app_id: str,
        private_key: str,
        fetch: Fetch,
        clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN_SECONDS,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self._on_token = on_token
        self._app_id = app_id
        self._margin = margin
        self._private_key = load_key(private_key)
        self._fetch = fetch
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.fetches = 0

    def app_jwt(self) -> str:
        """A fresh app JWT."""
        return app_jwt(self._app_id, self._private_key, self._clock())

    async def token(self, installation_id: int) -> str:
        """A token for `installation_id` valid for at least the refresh margin."""
        cached = self._tokens.get(installation_id)
        if cached and cached.expires_at - self._clock() > self._margin:
            return cached.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - self._clock() > self._margin:
                return cached.token
            token, expires_at = await self._fetch(installation_id, self.app_jwt())
            self.fetches += 1
            if self._on_token is not None:
                self._on_token(token)  # so that the log redactor knows it
            expiry = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
            self._tokens[installation_id] = InstallationToken(token, expiry)
            return token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (401), so the next call fetches a new one."""
        self._tokens.pop(installation_id, None)

"""GitHub App authentication: the app's JWT and a per-installation token cache."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeGuard

import jwt
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

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


class TokenStore(Protocol):
    """Where processes share installation tokens (Redis when the App scales out)."""

    async def get(self, installation_id: int) -> InstallationToken | None:
        """The stored token, or None."""

    async def put(self, installation_id: int, token: InstallationToken, keep_for: float) -> None:
        """Store a token for `keep_for` seconds."""

    async def drop(self, installation_id: int) -> None:
        """Forget a token GitHub refused."""


class RedisTokenStore:
    """Installation tokens in Redis, encrypted with a key derived from the App's private key: a
    reader of Redis alone cannot act as the App. A Redis failure only costs a fetch from GitHub."""

    def __init__(self, redis: Redis, private_key_pem: str, prefix: str = "unroot:token:") -> None:
        derived = HKDF(SHA256(), length=32, salt=None, info=b"unroot installation-token cache").derive(
            private_key_pem.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._redis = redis
        self._prefix = prefix

    async def get(self, installation_id: int) -> InstallationToken | None:
        try:
            sealed = await self._redis.get(f"{self._prefix}{installation_id}")
            if sealed is None:
                return None
            stored = json.loads(self._fernet.decrypt(sealed))
            return InstallationToken(str(stored["token"]), float(stored["expires_at"]))
        except (RedisError, OSError, InvalidToken, ValueError, KeyError, TypeError) as error:
            log.warning("shared token cache unreadable for installation %s: %r", installation_id, error)
            return None

    async def put(self, installation_id: int, token: InstallationToken, keep_for: float) -> None:
        if keep_for <= 0:
            return
        sealed = self._fernet.encrypt(json.dumps({"token": token.token, "expires_at": token.expires_at}).encode())
        try:
            await self._redis.set(f"{self._prefix}{installation_id}", sealed, px=int(keep_for * 1000))
        except (RedisError, OSError) as error:
            log.warning("could not share the token of installation %s: %r", installation_id, error)

    async def drop(self, installation_id: int) -> None:
        try:
            await self._redis.delete(f"{self._prefix}{installation_id}")
        except (RedisError, OSError) as error:
            log.warning("could not drop the shared token of installation %s: %r", installation_id, error)


class TokenSource(Protocol):
    """What a client asks for its token: the App's TokenCache, or the Action's one fixed token."""

    async def token(self, installation_id: int) -> str:
        """A token valid for the next calls."""

    async def forget(self, installation_id: int) -> None:
        """GitHub refused the token (401)."""


@dataclass(frozen=True)
class FixedToken:
    """One token handed over whole (a workflow's GITHUB_TOKEN): nothing to refresh, nothing to fetch."""

    value: str

    async def token(self, installation_id: int) -> str:
        return self.value

    async def forget(self, installation_id: int) -> None:
        """A refused token stays refused: the next call fails with GitHub's answer."""


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
        store: TokenStore | None = None,
    ) -> None:
        self._on_token = on_token
        self.store = store
        self._app_id = app_id
        self._margin = margin
        self._private_key = load_key(private_key)
        self._fetch = fetch
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def app_jwt(self) -> str:
        """A fresh app JWT."""
        return app_jwt(self._app_id, self._private_key, self._clock())

    async def token(self, installation_id: int) -> str:
        """A token for `installation_id` valid for at least the refresh margin."""
        cached = self._tokens.get(installation_id)
        if self._usable(cached):
            return cached.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if self._usable(cached):
                return cached.token
            shared = await self.store.get(installation_id) if self.store is not None else None
            if self._usable(shared):
                self._remember(installation_id, shared)
                return shared.token
            token, expires_at = await self._fetch(installation_id, self.app_jwt())
            fresh = InstallationToken(token, datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp())
            self._remember(installation_id, fresh)
            if self.store is not None:
                await self.store.put(installation_id, fresh, fresh.expires_at - self._clock() - self._margin)
            return token

    def _usable(self, token: InstallationToken | None) -> TypeGuard[InstallationToken]:
        """A token that stays valid for at least the refresh margin."""
        return token is not None and token.expires_at - self._clock() > self._margin

    def _remember(self, installation_id: int, token: InstallationToken) -> None:
        if self._on_token is not None:
            self._on_token(token.token)  # so that the log redactor knows it
        self._tokens[installation_id] = token

    async def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (401), here and in the shared store, so the next call fetches a new one."""
        self._tokens.pop(installation_id, None)
        if self.store is not None:
            await self.store.drop(installation_id)

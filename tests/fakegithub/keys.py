"""The RSA key pair of the fake's GitHub App: the App signs JWTs with it, the fake verifies them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class AppKey:
    """An RSA key pair in PEM form: the app signs JWTs with the private key, the fake verifies."""

    private_pem: str
    public_pem: str


def generate_app_key(bits: int = 2048) -> AppKey:
    """A fresh RSA key pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKey(private, public)


@functools.cache
def shared_app_key() -> AppKey:
    """One key pair per test process (RSA generation costs ~0.1 s)."""
    return generate_app_key()

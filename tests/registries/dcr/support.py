"""Helpers shared by the DCR tests."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from reconciler.registries.dcr.registry import DcrRegistry

INITIAL_ACCESS_TOKEN = "iat-for-tests-7Hq2"

#: opener(issuer, state_path, environ=None) -> an open DcrRegistry, closed after the test
Opener = Callable[..., DcrRegistry]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(issuer: str, client_id: str, secret: str, *, post: bool = True) -> httpx.Response:
    """client_credentials at the peer's token endpoint, the secret in the body or basic auth."""
    endpoint = httpx.get(f"{issuer}/.well-known/openid-configuration").json()["token_endpoint"]
    if post:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        return httpx.post(endpoint, data=form)
    return httpx.post(endpoint, data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def rsa_public_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")

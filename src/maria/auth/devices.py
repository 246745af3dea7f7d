"""Device tokens and known addresses: how the login limits tell the owner's clients from
strangers (OWASP's "device cookie" scheme).

A device token is ``d1.<nonce>.<mac>``: 16 random bytes and an HMAC-SHA256 of the account's
user id and the nonce, both base64url. The key is derived from ``MARIA_SECRET_KEY`` for this
purpose alone (never the JWT key itself), so a token names no account and can be made for
none without the secret. A token that is malformed, forged or another account's is simply
not a device of this account: the client is unknown, never refused for it.

A known address is where the account signed in from: IPv4 as is, IPv6 as its /64 network
(a host's privacy addresses change daily; its network does not).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets

from maria.auth.tokens import b64url_encode

_KEY_LABEL = b"maria/device-token/v1"
_SHAPE = re.compile(r"d1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
MAX_TOKEN_LENGTH = 128  # what the login body accepts; a real token is 69 characters
MAX_ADDRESS_LENGTH = 64


class DeviceTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()

    def _mac(self, user_id: str, nonce: str) -> str:
        msg = f"{user_id}|{nonce}".encode()
        return b64url_encode(hmac.new(self._key, msg, hashlib.sha256).digest())

    def issue(self, user_id: str) -> str:
        """A new token for a client that has just signed in to ``user_id``."""
        nonce = b64url_encode(secrets.token_bytes(16))
        return f"d1.{nonce}.{self._mac(user_id, nonce)}"

    def device_of(self, user_id: str, *tokens: str | None) -> str | None:
        """The nonce of the first of ``tokens`` that is a device of ``user_id``, else None."""
        for token in tokens:
            match = _match(token)
            if match is None:
                continue
            nonce, mac = match.groups()
            if hmac.compare_digest(self._mac(user_id, nonce), mac):
                return nonce
        return None


def _match(token: str | None) -> re.Match[str] | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return _SHAPE.fullmatch(token)


def well_formed(token: str | None) -> bool:
    """Shaped like a device token (which says nothing of whose, or whether it is forged)."""
    return _match(token) is not None


def address_key(ip: str) -> str:
    """How an address is remembered: IPv4 (also IPv4-mapped IPv6) as is, IPv6 as its /64,
    anything that is not an IP address (a test client, a Unix socket) as given."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:MAX_ADDRESS_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)

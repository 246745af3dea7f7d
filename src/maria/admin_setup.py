"""Bootstrapping the first admin from the command line."""

from __future__ import annotations

from maria.config import Settings
from maria.services import build_services


async def create_admin(settings: Settings, email: str, display_name: str, password: str) -> str:
    """Create the admin, or make an existing account admin with this password."""
    services = build_services(settings)
    try:
        password_hash = await services.passwords.hash(password)
        return await services.users.create_or_promote_admin(
            email=email, password_hash=password_hash, display_name=display_name
        )
    finally:
        await services.close()

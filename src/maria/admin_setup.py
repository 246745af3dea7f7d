"""Bootstrapping the first admin from the command line."""

from __future__ import annotations

from pydantic import EmailStr, TypeAdapter, ValidationError

from maria.config import Settings
from maria.services import build_services

_EMAIL = TypeAdapter(EmailStr)


def email_problem(email: str) -> str | None:
    """Why registration would refuse this email, or None (the same check as the API's)."""
    if len(email) > 320:
        return "the email is too long"
    try:
        _EMAIL.validate_python(email)
    except ValidationError as exc:
        return "not an email address: " + exc.errors()[0]["msg"].removeprefix(
            "value is not a valid email address: "
        )
    return None


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

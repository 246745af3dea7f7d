"""Bootstrapping the first admin from the command line."""

from __future__ import annotations

from sqlalchemy import update

from maria.auth.passwords import PasswordService
from maria.config import Settings
from maria.db import make_engine, make_sessionmaker, utcnow
from maria.users import service as users
from maria.users.models import User


async def create_admin(settings: Settings, email: str, display_name: str, password: str) -> str:
    """Create the admin, or make an existing account admin with this password."""
    passwords = PasswordService(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        threads=1,
    )
    engine = make_engine(settings.resolved_database_url)
    try:
        password_hash = await passwords.hash(password)
        async with make_sessionmaker(engine)() as db, db.begin():
            existing = await users.get_by_email(db, email)
            if existing is None:
                user = await users.create_user(
                    db,
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name,
                    role="admin",
                )
                return f"created admin {user.id}"
            await db.execute(
                update(User)
                .where(User.id == existing.id)
                .values(role="admin", password_hash=password_hash, updated_at=utcnow())
            )
            return f"promoted {existing.id} to admin"
    finally:
        passwords.close()
        await engine.dispose()

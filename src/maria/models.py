"""Import every domain's tables so that ``Base.metadata`` knows them all (Alembic, tests)."""

from __future__ import annotations


def load_all() -> None:
    import maria.audit.models
    import maria.auth.models
    import maria.keys.models
    import maria.lists.models
    import maria.mail.models
    import maria.rooms.models
    import maria.users.models  # noqa: F401

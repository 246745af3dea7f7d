"""Alembic migrations, shipped inside the package so that ``maria migrate`` works anywhere."""

"""Alembic migrations of the app's database (see infra/schema.py and ops/migrate.py)."""

"""Alembic migrations of the schema (run by `intake migrate`)."""

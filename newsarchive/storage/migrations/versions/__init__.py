"""Alembic revision scripts, applied in order by newsarchive.storage.engine."""

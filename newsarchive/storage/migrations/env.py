"""Alembic environment: runs on the connection newsarchive hands over (online only)."""

from __future__ import annotations

from alembic import context

from newsarchive.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by newsarchive.storage.engine.upgrade
    raise RuntimeError("run migrations through `newsarchive db upgrade` (newsarchive.storage.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()

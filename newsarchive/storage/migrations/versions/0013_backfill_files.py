"""Backfill state: one row per WARC file of a backfill job, so a rerun skips finished files and
several workers (processes or machines) share one backfill by claiming rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backfill_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(500), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(300), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("job", "path", name="uq_backfill_files_job_path"),
    )


def downgrade() -> None:
    op.drop_table("backfill_files")

"""url_state.listed_modified: the modification time each listing gave when we last fetched the URL.

The revisit policy refetched a known URL only when its listed time (sitemap ``lastmod``, feed
``updated``, news-sitemap publication date) was later than our last fetch, so an edit stamped
with a time still before our fetch (a server clock behind ours, local time labelled UTC) was
never archived. Keeping the value each listing gave at the last fetch ({listing path: ISO
time}, JSON: a URL is often in a feed and a sitemap that give different times) lets the
policy refetch whenever a listing's value differs from it, whatever the clocks say (issue 14).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("url_state") as batch:
        batch.add_column(sa.Column("listed_modified", sa.JSON(none_as_null=True)))


def downgrade() -> None:
    with op.batch_alter_table("url_state") as batch:
        batch.drop_column("listed_modified")

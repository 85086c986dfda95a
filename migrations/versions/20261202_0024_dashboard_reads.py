"""dashboard reads (Q2): a delivery's earlier attempts by order, return cases by day opened

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTEMPTED = "kind = 'delivery' AND outcome IS NOT NULL"


def upgrade() -> None:
    # "Was this the order's first attempt?" is one index probe per stop, not a hash of every
    # attempt ever made (measured on 1,000,000 stops: bench/dashboard.py).
    op.create_index(
        "ix_stops_attempts",
        "stops",
        ["order_id", "delivery_day"],
        sqlite_where=sa.text(ATTEMPTED),
        postgresql_where=sa.text(ATTEMPTED),
    )
    op.create_index("ix_return_cases_created_at", "return_cases", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_return_cases_created_at", table_name="return_cases")
    op.drop_index("ix_stops_attempts", table_name="stops")

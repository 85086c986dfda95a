"""dashboard (Q2): the window we last told a customer, and indexes for weekly figures

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The customer's promise is the checkout window until we tell them another one: the
    # dashboard's on-time figure measures against what they last heard.
    with op.batch_alter_table("stops") as batch:
        batch.add_column(sa.Column("told_start_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("told_end_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            "told_window_whole",
            sa.text(
                "(told_at IS NULL) = (told_start_at IS NULL) "
                "AND (told_at IS NULL) = (told_end_at IS NULL)"
            ),
        )
    op.create_index("ix_stops_depot_day", "stops", ["depot_id", "delivery_day"])
    op.create_index(
        "ix_ledger_entries_bonus_created",
        "ledger_entries",
        ["created_at"],
        sqlite_where=sa.text("kind = 'bonus'"),
        postgresql_where=sa.text("kind = 'bonus'"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_bonus_created", table_name="ledger_entries")
    op.drop_index("ix_stops_depot_day", table_name="stops")
    with op.batch_alter_table("stops") as batch:
        batch.drop_constraint(op.f("ck_stops_told_window_whole"), type_="check")
        batch.drop_column("told_at")
        batch.drop_column("told_end_at")
        batch.drop_column("told_start_at")

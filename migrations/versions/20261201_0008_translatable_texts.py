"""texts the product writes keep their words translatable (msgid and parameters as JSON)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00

A stored message is longer than its English, so the columns that hold one become Text.
Rows written before keep their English text; they are shown as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("plan_unassigned", "message"),
    ("plan_changes", "summary"),
    ("ledger_entries", "reason"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(300))


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(300), existing_type=sa.Text())

"""ledger at speed: the unused points of each grant, and a version on the account

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:30:00

A debit used to sum every grant's allocations, and every write took the account lock before
reading anything. Now the unused points of each grant that has some are kept in
ledger_unused_grants (filled here from the allocations), and every write bumps
loyalty_accounts.version. The index on ledger_entries.source gains the customer and the
kind: what one order did to one customer's points, narrow enough for a prepared statement's
generic plan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_unused_grants",
        sa.Column("entry_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unused_points", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "unused_points > 0", name=op.f("ck_ledger_unused_grants_unused_positive")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_unused_grants_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_ledger_unused_grants")),
        # Room on each page for a debit to update its grant in place.
        postgresql_with={"fillfactor": 90},
    )
    op.execute(
        "INSERT INTO ledger_unused_grants (entry_id, customer_id, expires_at, unused_points) "
        "SELECT e.id, e.customer_id, e.expires_at, e.points - COALESCE(a.used, 0) "
        "FROM ledger_entries e LEFT JOIN ("
        "  SELECT grant_entry_id, SUM(points) AS used FROM ledger_allocations"
        "  GROUP BY grant_entry_id"
        ") a ON a.grant_entry_id = e.id "
        "WHERE e.expires_at IS NOT NULL AND e.points > COALESCE(a.used, 0)"
    )
    with op.batch_alter_table("ledger_unused_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_unused_grants_customer_expiry",
            ["customer_id", "expires_at", "entry_id"],
            unique=False,
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_source_customer_kind",
            ["source", "customer_id", "kind"],
            unique=False,
        )
        batch_op.drop_index("ix_ledger_entries_source")
    # A plain ALTER on both backends: rebuilding loyalty_accounts (SQLite's batch mode, which
    # a SQL expression as default or a dropped column would need) fails once entries point at
    # it.
    op.add_column(
        "loyalty_accounts", sa.Column("version", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.execute("ALTER TABLE loyalty_accounts DROP COLUMN version")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_source", ["source"], unique=False)
        batch_op.drop_index("ix_ledger_entries_source_customer_kind")
    with op.batch_alter_table("ledger_unused_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_unused_grants_customer_expiry")
    op.drop_table("ledger_unused_grants")

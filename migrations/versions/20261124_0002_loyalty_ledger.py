"""loyalty ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:23.392183
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "loyalty_accounts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("balance_points", sa.Integer(), nullable=False),
        sa.Column("owed_points", sa.Integer(), nullable=False),
        sa.Column("written_off_points", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance_points >= 0", name=op.f("ck_loyalty_accounts_balance_not_negative")
        ),
        sa.CheckConstraint("owed_points >= 0", name=op.f("ck_loyalty_accounts_owed_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_loyalty_accounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_loyalty_accounts")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("shortfall_points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('earn', 'redeem', 'bonus', 'reversal', 'return', 'expiry', 'adjustment', 'settlement')",
            name=op.f("ck_ledger_entries_kind_known"),
        ),
        sa.CheckConstraint(
            "expires_at IS NULL OR points > 0", name=op.f("ck_ledger_entries_only_grants_expire")
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_ledger_entries_reason_given")),
        sa.CheckConstraint(
            "points <> 0 OR shortfall_points > 0", name=op.f("ck_ledger_entries_points_not_zero")
        ),
        sa.CheckConstraint(
            "shortfall_points >= 0", name=op.f("ck_ledger_entries_shortfall_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_ledger_entries_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["loyalty_accounts.customer_id"],
            name=op.f("fk_ledger_entries_customer_id_loyalty_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_customer_created", ["customer_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entries_source"), ["source"], unique=False)

    op.create_table(
        "ledger_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debit_entry_id", sa.Integer(), nullable=False),
        sa.Column("grant_entry_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_ledger_allocations_points_positive")),
        sa.ForeignKeyConstraint(
            ["debit_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_debit_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_grant_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_allocations")),
    )
    with op.batch_alter_table("ledger_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_allocations_debit_entry_id"), ["debit_entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_allocations_grant_entry_id"), ["grant_entry_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("ledger_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_allocations_grant_entry_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_allocations_debit_entry_id"))

    op.drop_table("ledger_allocations")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_source"))
        batch_op.drop_index("ix_ledger_entries_customer_created")

    op.drop_table("ledger_entries")
    op.drop_table("loyalty_accounts")

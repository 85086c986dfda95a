"""return cases: items, photos, the decision with its rule, and the timeline

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("bonus_points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refund_minor", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pickup", sa.Boolean(), nullable=False),
        sa.Column("delivery", sa.Boolean(), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "bonus_points >= 0 AND refund_minor >= 0",
            name=op.f("ck_return_cases_amounts_not_negative"),
        ),
        sa.CheckConstraint(
            "override_reason IS NULL OR overridden_by_user_id IS NOT NULL",
            name=op.f("ck_return_cases_override_has_author"),
        ),
        sa.CheckConstraint(
            "reason IN ('defective', 'damaged', 'wrong_item', 'not_as_described', 'changed_mind')",
            name=op.f("ck_return_cases_reason_known"),
        ),
        sa.CheckConstraint(
            "resolution IN ('refund', 'replacement', 'exchange')",
            name=op.f("ck_return_cases_resolution_known"),
        ),
        sa.CheckConstraint(
            "rule IN ('X2-fast-track', 'X2-food-refund', 'X2-standard', 'X2-outside-period', "
            "'X2-already-returned')",
            name=op.f("ck_return_cases_rule_known"),
        ),
        sa.CheckConstraint(
            "status IN ('approved', 'under_review', 'declined', 'received', 'closed')",
            name=op.f("ck_return_cases_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_return_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_return_cases_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["overridden_by_user_id"],
            ["users.id"],
            name=op.f("fk_return_cases_overridden_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_cases")),
        sa.UniqueConstraint(
            "customer_id", "client_key", name=op.f("uq_return_cases_customer_id_client_key")
        ),
    )
    with op.batch_alter_table("return_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_cases_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_return_cases_order_id"), ["order_id"], unique=False)
    op.create_table(
        "return_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("order_item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["return_cases.id"],
            name=op.f("fk_return_items_case_id_return_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_return_items_order_item_id_order_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_items")),
        sa.UniqueConstraint(
            "case_id", "order_item_id", name=op.f("uq_return_items_case_id_order_item_id")
        ),
    )
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_items_order_item_id"), ["order_item_id"], unique=False
        )
    for table in ("return_photos", "return_events"):
        columns = (
            [sa.Column("photo", sa.String(length=255), nullable=False)]
            if table == "return_photos"
            else [
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("message", sa.Text(), nullable=False),
                sa.Column("user_id", sa.Integer(), nullable=True),
                sa.ForeignKeyConstraint(
                    ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")
                ),
            ]
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("case_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["case_id"],
                ["return_cases.id"],
                name=op.f(f"fk_{table}_case_id_return_cases"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    for table in ("return_events", "return_photos"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_case_id"))
        op.drop_table(table)
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_items_order_item_id"))
    op.drop_table("return_items")
    with op.batch_alter_table("return_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_cases_order_id"))
        batch_op.drop_index(batch_op.f("ix_return_cases_customer_id"))
    op.drop_table("return_cases")

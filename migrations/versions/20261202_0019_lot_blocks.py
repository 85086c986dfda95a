"""lot blocks: who blocked a lot and when, its counted stock, returns to suppliers, and a
plan change that takes a held order's stop off the plan

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHANGE_KINDS = "kind IN ('insert', 'move')"
NEW_CHANGE_KINDS = "kind IN ('insert', 'move', 'withdraw')"


def upgrade() -> None:
    with op.batch_alter_table("lots") as batch:
        batch.add_column(sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("blocked_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stock_units", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_lots_blocked_by_user_id_users"), "users", ["blocked_by_user_id"], ["id"]
        )
        batch.create_check_constraint(
            "stock_not_negative", "stock_units IS NULL OR stock_units >= 0"
        )
    op.create_table(
        "supplier_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("stock_units", sa.Integer(), nullable=False),
        sa.Column("order_units", sa.Integer(), nullable=False),
        sa.Column("returned_units", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "stock_units >= 0 AND order_units >= 0 AND returned_units >= 0",
            name=op.f("ck_supplier_returns_parts_not_negative"),
        ),
        sa.CheckConstraint(
            "quantity = stock_units + order_units + returned_units",
            name=op.f("ck_supplier_returns_quantity_is_sum"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_supplier_returns_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_supplier_returns_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_returns")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_supplier_returns_lot_id")),
    )
    with op.batch_alter_table("plan_changes") as batch:
        batch.drop_constraint(op.f("ck_plan_changes_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(NEW_CHANGE_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM plan_changes WHERE kind = 'withdraw'")
    with op.batch_alter_table("plan_changes") as batch:
        batch.drop_constraint(op.f("ck_plan_changes_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(OLD_CHANGE_KINDS))
    op.drop_table("supplier_returns")
    with op.batch_alter_table("lots") as batch:
        batch.drop_constraint(op.f("ck_lots_stock_not_negative"), type_="check")
        batch.drop_constraint(op.f("fk_lots_blocked_by_user_id_users"), type_="foreignkey")
        batch.drop_column("stock_units")
        batch.drop_column("blocked_by_user_id")
        batch.drop_column("blocked_at")

"""plan edits and visit reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 11:31:25.509805
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("violations", sa.Text(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('insert', 'move')", name=op.f("ck_plan_changes_kind_known")),
        sa.CheckConstraint(
            "violations = '[]' OR override_reason IS NOT NULL",
            name=op.f("ck_plan_changes_violations_need_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_plan_changes_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_changes_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_plan_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_changes")),
    )
    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_changes_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("plan_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_plan_visits_outcome_known"),
            "outcome IS NULL OR outcome IN ('delivered', 'failed')",
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_visits_completed_has_outcome"),
            "(outcome IS NULL) = (completed_at IS NULL)",
        )

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("replanned_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_plans_replanned_from_id_plans"), "plans", ["replanned_from_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plans_replanned_from_id_plans"), type_="foreignkey")
        batch_op.drop_column("replanned_from_id")
        batch_op.drop_column("revision")

    with op.batch_alter_table("plan_visits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_visits_completed_has_outcome"), type_="check")
        batch_op.drop_constraint(op.f("ck_plan_visits_outcome_known"), type_="check")
        batch_op.drop_column("outcome")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("arrived_at")

    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_changes_plan_id"))

    op.drop_table("plan_changes")

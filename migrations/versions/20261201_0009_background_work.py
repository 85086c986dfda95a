"""background work: cancellable runs with progress in the database, scheduler firings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('solving', 'ready', 'failed')"
NEW_STATUSES = "status IN ('solving', 'ready', 'failed', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plans_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", sa.text(NEW_STATUSES))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("search_improvements", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("search_first_objective", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("search_best_objective", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_plans_cancelled_by_user_id_users", "users", ["cancelled_by_user_id"], ["id"]
        )
    op.create_table(
        "scheduled_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=120), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_by", sa.String(length=100), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_firings")),
        sa.UniqueConstraint("job", "due_at", name=op.f("uq_scheduled_firings_job_due_at")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_firings")
    # Cancelled runs read as failed in the older schema (they produced nothing either way).
    op.execute("UPDATE plans SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint("fk_plans_cancelled_by_user_id_users", type_="foreignkey")
        batch_op.drop_column("cancelled_by_user_id")
        batch_op.drop_column("progress_at")
        batch_op.drop_column("search_best_objective")
        batch_op.drop_column("search_first_objective")
        batch_op.drop_column("search_improvements")
        batch_op.drop_column("started_at")
        batch_op.drop_constraint(op.f("ck_plans_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", sa.text(OLD_STATUSES))

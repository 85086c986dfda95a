"""planning run leases

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOLVING = sa.text("status = 'solving'")


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=True))
    # Runs still 'solving' now were started by code without leases; nothing is solving while
    # the schema is upgraded, so they are the stuck ones. They fail with their reason, which
    # also lets the one-solving-run-per-day index below be built.
    op.execute(
        sa.text(
            "UPDATE plans SET status = 'failed', finished_at = created_at, error = :error "
            "WHERE status = 'solving'"
        ).bindparams(
            error="The planning run stopped unexpectedly (it was still marked as solving when "
            "Roundtrip was upgraded); nothing was published. Plan the day again."
        )
    )
    op.create_index(
        "uq_plans_one_solving_run",
        "plans",
        ["depot_id", "delivery_day"],
        unique=True,
        sqlite_where=SOLVING,
        postgresql_where=SOLVING,
    )


def downgrade() -> None:
    op.drop_index(
        "uq_plans_one_solving_run",
        table_name="plans",
        sqlite_where=SOLVING,
        postgresql_where=SOLVING,
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("heartbeat_at")

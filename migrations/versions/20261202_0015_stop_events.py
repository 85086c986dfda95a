"""stop events: each courier action applied once, with the courier's own time; proof photos

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stop_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_event_id", sa.String(length=64), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("courier_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('arrived', 'delivered', 'failed')", name=op.f("ck_stop_events_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_stop_events_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"], ["stops.id"], name=op.f("fk_stop_events_stop_id_stops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stop_events")),
        sa.UniqueConstraint("client_event_id", name=op.f("uq_stop_events_client_event_id")),
    )
    with op.batch_alter_table("stop_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stop_events_courier_id"), ["courier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stop_events_stop_id"), ["stop_id"], unique=False)
    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_photo", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stops", schema=None) as batch_op:
        batch_op.drop_column("proof_photo")
    with op.batch_alter_table("stop_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stop_events_stop_id"))
        batch_op.drop_index(batch_op.f("ix_stop_events_courier_id"))
    op.drop_table("stop_events")

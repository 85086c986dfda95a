"""inspections: the courier's pre-trip check of the vehicle, kept as given

Also lets a vehicle's out-of-service reason be said by the product in its reader's language
(a failed inspection), not only typed by a dispatcher: the column becomes text.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("failed_items", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("odometer_km", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("photo", sa.String(length=255), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_event_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "odometer_km IS NULL OR odometer_km BETWEEN 0 AND 2000000",
            name=op.f("ck_inspections_odometer"),
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_inspections_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_inspections_shift_id_shifts")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_inspections_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("client_event_id", name=op.f("uq_inspections_client_event_id")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspections_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_vehicle_id"), ["vehicle_id"], unique=False)
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.alter_column(
            "out_of_service_reason",
            existing_type=sa.String(length=255),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.alter_column(
            "out_of_service_reason",
            existing_type=sa.Text(),
            type_=sa.String(length=255),
            existing_nullable=True,
            # A reason the product wrote (a message kept whole) may be longer: cut it.
            postgresql_using="left(out_of_service_reason, 255)",
        )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_inspections_shift_id"))
    op.drop_table("inspections")

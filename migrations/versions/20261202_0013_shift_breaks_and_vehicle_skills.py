"""shift breaks, vehicle skills, and the break each plan version places

Shifts gain an optional break (minutes, taken between two moments inside the shift);
existing shifts keep none (planning goes on as before for them). Vehicles gain skills, empty
for those already registered. Plan routes record where their version places the break.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("break_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("break_from_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("break_until_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_shifts_break_whole"),
            "(break_minutes IS NULL) = (break_from_at IS NULL) "
            "AND (break_minutes IS NULL) = (break_until_at IS NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_shifts_break_inside_shift"),
            "break_minutes IS NULL OR (break_minutes > 0 AND break_from_at >= starts_at "
            "AND break_until_at <= ends_at AND break_until_at > break_from_at)",
        )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skills", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("plan_routes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("break_start_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("break_end_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_routes", schema=None) as batch_op:
        batch_op.drop_column("break_end_at")
        batch_op.drop_column("break_start_at")
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_column("skills")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_shifts_break_inside_shift"), type_="check")
        batch_op.drop_constraint(op.f("ck_shifts_break_whole"), type_="check")
        batch_op.drop_column("break_until_at")
        batch_op.drop_column("break_from_at")
        batch_op.drop_column("break_minutes")

"""return stops: a stop may come from a return case; a case's promise is watched

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stops") as batch:
        batch.add_column(sa.Column("return_case_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("goods", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("called_off_at", sa.DateTime(timezone=True), nullable=True))
        # One delivery of an order a day; a return's stops are counted by their case.
        batch.drop_constraint(op.f("uq_stops_order_id_delivery_day_kind"), type_="unique")
        batch.create_foreign_key(
            op.f("fk_stops_return_case_id_return_cases"),
            "return_cases",
            ["return_case_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_stops_return_case_id"), ["return_case_id"])
        batch.create_unique_constraint(
            op.f("uq_stops_return_case_id_delivery_day"), ["return_case_id", "delivery_day"]
        )
        batch.create_check_constraint(
            "return_has_order", "return_case_id IS NULL OR order_id IS NOT NULL"
        )
    op.create_index(
        "uq_stops_order_day_kind",
        "stops",
        ["order_id", "delivery_day", "kind"],
        unique=True,
        sqlite_where=sa.text("return_case_id IS NULL"),
        postgresql_where=sa.text("return_case_id IS NULL"),
    )
    with op.batch_alter_table("return_cases") as batch:
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("breach_told_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("return_cases") as batch:
        batch.drop_column("answered_at")
        batch.drop_column("breach_told_at")
        batch.drop_column("escalated_at")
    op.execute(
        "DELETE FROM plan_visits WHERE stop_id IN (SELECT id FROM stops WHERE return_case_id IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM plan_unassigned WHERE stop_id IN "
        "(SELECT id FROM stops WHERE return_case_id IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM plan_changes WHERE stop_id IN "
        "(SELECT id FROM stops WHERE return_case_id IS NOT NULL)"
    )
    op.execute(
        "DELETE FROM stop_events WHERE stop_id IN "
        "(SELECT id FROM stops WHERE return_case_id IS NOT NULL)"
    )
    op.execute("DELETE FROM stops WHERE return_case_id IS NOT NULL")
    op.drop_index("uq_stops_order_day_kind", table_name="stops")
    with op.batch_alter_table("stops") as batch:
        batch.drop_constraint(op.f("ck_stops_return_has_order"), type_="check")
        batch.drop_constraint(op.f("uq_stops_return_case_id_delivery_day"), type_="unique")
        batch.drop_index(op.f("ix_stops_return_case_id"))
        batch.drop_constraint(op.f("fk_stops_return_case_id_return_cases"), type_="foreignkey")
        batch.drop_column("return_case_id")
        batch.drop_column("goods")
        batch.drop_column("called_off_at")
        batch.create_unique_constraint(
            op.f("uq_stops_order_id_delivery_day_kind"), ["order_id", "delivery_day", "kind"]
        )

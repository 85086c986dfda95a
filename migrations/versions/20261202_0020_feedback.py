"""feedback (Q1): a rating per delivered stop, NPS asks and answers, and support cases with
their promised response time; three more notice kinds (rate your delivery, a case opened,
support's answer)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_NOTICE_KINDS = "kind IN ('late', 'return_update', 'return_late', 'escalation', 'held')"
NEW_NOTICE_KINDS = (
    "kind IN ('late', 'return_update', 'return_late', 'escalation', 'held', "
    "'rating_invite', 'support_opened', 'support_reply')"
)


def upgrade() -> None:
    op.create_table(
        "delivery_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score >= 1 AND score <= 5", name=op.f("ck_delivery_ratings_score_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"], ["stops.id"], name=op.f("fk_delivery_ratings_stop_id_stops")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_ratings_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_delivery_ratings_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_ratings")),
        sa.UniqueConstraint("stop_id", name=op.f("uq_delivery_ratings_stop_id")),
    )
    with op.batch_alter_table("delivery_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_ratings_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delivery_ratings_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "nps_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("why", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 10)",
            name=op.f("ck_nps_answers_score_0_to_10"),
        ),
        sa.CheckConstraint(
            "(answered_at IS NULL) = (score IS NULL)",
            name=op.f("ck_nps_answers_answered_has_score"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_nps_answers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_nps_answers_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_answers")),
    )
    with op.batch_alter_table("nps_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nps_answers_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "support_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=True),
        sa.Column("nps_answer_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_user_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("question_tag", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "source IN ('rating', 'nps', 'callback', 'contact')",
            name=op.f("ck_support_cases_source_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'closed')",
            name=op.f("ck_support_cases_status_known"),
        ),
        sa.CheckConstraint(
            "status <> 'answered' OR (answered_at IS NOT NULL AND answer IS NOT NULL)",
            name=op.f("ck_support_cases_answered_has_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_support_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_support_cases_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["delivery_ratings.id"],
            name=op.f("fk_support_cases_rating_id_delivery_ratings"),
        ),
        sa.ForeignKeyConstraint(
            ["nps_answer_id"],
            ["nps_answers.id"],
            name=op.f("fk_support_cases_nps_answer_id_nps_answers"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_user_id"],
            ["users.id"],
            name=op.f("fk_support_cases_answered_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_cases")),
    )
    with op.batch_alter_table("support_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_cases_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_cases_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_support_cases_desk", ["status", "respond_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_cases_rating_id"), ["rating_id"], unique=False)
    op.create_index(
        "uq_nps_answers_one_open",
        "nps_answers",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("answered_at IS NULL"),
        postgresql_where=sa.text("answered_at IS NULL"),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(NEW_NOTICE_KINDS))


def downgrade() -> None:
    op.execute(
        "DELETE FROM notifications "
        "WHERE kind IN ('rating_invite', 'support_opened', 'support_reply')"
    )
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(OLD_NOTICE_KINDS))
    op.drop_index("uq_nps_answers_one_open", table_name="nps_answers")
    with op.batch_alter_table("support_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_cases_rating_id"))
        batch_op.drop_index("ix_support_cases_desk")
        batch_op.drop_index(batch_op.f("ix_support_cases_order_id"))
        batch_op.drop_index(batch_op.f("ix_support_cases_customer_id"))
    op.drop_table("support_cases")
    with op.batch_alter_table("nps_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nps_answers_customer_id"))
    op.drop_table("nps_answers")
    with op.batch_alter_table("delivery_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_ratings_customer_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_ratings_order_id"))
    op.drop_table("delivery_ratings")

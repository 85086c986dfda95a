"""help (P3): the FAQ support maintains, and callback requests with their slots

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BEFORE_KINDS = (
    "kind IN ('late', 'return_update', 'return_late', 'escalation', 'held', "
    "'rating_invite', 'support_opened', 'support_reply')"
)
# A missed callback for support, a regular's offer, a demanding customer's feedback routed.
KINDS = (
    "kind IN ('late', 'return_update', 'return_late', 'escalation', 'held', "
    "'rating_invite', 'support_opened', 'support_reply', 'callback_missed', 'offer', "
    "'feedback')"
)


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(KINDS))
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=80), nullable=False),
        sa.Column("question_en", sa.String(length=300), nullable=False),
        sa.Column("answer_en", sa.Text(), nullable=False),
        sa.Column("question_ru", sa.String(length=300), nullable=False),
        sa.Column("answer_ru", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(question_en <> '' AND answer_en <> '') OR (question_ru <> '' AND answer_ru <> '')",
            name=op.f("ck_faq_entries_one_language_given"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
        sa.UniqueConstraint("tag", name=op.f("uq_faq_entries_tag")),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("slot_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["support_cases.id"], name=op.f("fk_callbacks_case_id_support_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("case_id", name=op.f("uq_callbacks_case_id")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callbacks_slot_start_at"), ["slot_start_at"], unique=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind IN ('callback_missed', 'offer', 'feedback')")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch.create_check_constraint("kind_known", sa.text(BEFORE_KINDS))
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_slot_start_at"))
    op.drop_table("callbacks")
    op.drop_table("faq_entries")

"""who made each staff ledger entry

No schema change: the acting person already has a column, ``ledger_entries.created_by_user_id``
(since 0002, nullable because the system writes earnings, expiries and reversals). Staff
adjustments and redemptions now fill it and the support ledger shows it; a second column
(``actor_user_id``) would say the same thing twice. A CHECK that adjustments name their actor
was left out: the ledger benchmark and property tests write adjustments without a person.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""the production job queue: Procrastinate 3.10's tables and functions (PostgreSQL only)

Procrastinate keeps no record of its own schema version; its own docs leave combining it
with a migration tool to the project. So its schema is frozen here, as shipped with 3.10.0
(migrations/sql/procrastinate_3.10.0_schema.sql), and a later Procrastinate whose schema
changes gets a migration of its own with that release's SQL. SQLite (the embedded mode)
runs background work on threads and has no queue tables.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate_3.10.0_schema.sql"
TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
FUNCTIONS = (
    "procrastinate_cancel_job_v1",
    "procrastinate_defer_jobs_v1",
    "procrastinate_defer_periodic_job_v2",
    "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1",
    "procrastinate_notify_queue_abort_job_v1",
    "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_prune_stalled_workers_v1",
    "procrastinate_register_worker_v1",
    "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2",
    "procrastinate_trigger_abort_requested_events_procedure_v1",
    "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1",
    "procrastinate_unlink_periodic_defers_v1",
    "procrastinate_unregister_worker_v1",
    "procrastinate_update_heartbeat_v1",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SCHEMA.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    for type_ in TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_} CASCADE")

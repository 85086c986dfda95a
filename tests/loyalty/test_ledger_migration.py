"""Migration 0011 keeps the unused points of the grants already in the ledger (figured from
their allocations) and gives every account version 0; it goes back down cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

import app.models  # noqa: F401  (complete metadata)
from app import migrate
from app.db import make_engine
from tests.conftest import BACKENDS, fresh_database_url, postgres_url_or_skip
from tests.loyalty.conftest import T0

BEFORE, RUNNING_FIGURES = "0010", "0011"
LEDGER = [
    # id, kind, points, key, expires
    (1, "bonus", 10, "b1", True),
    (2, "earn", 5, "e2", True),
    (3, "redeem", -12, "r3", False),  # 10 from grant 1, 2 from grant 2
    (4, "bonus", 7, "b4", True),
    (5, "expiry", -7, "expiry:4", False),  # all of grant 4
]
ALLOCATIONS = [(3, 1, 10), (3, 2, 2), (5, 4, 7)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        yield fresh_database_url(postgres_url_or_skip(), "ledger_migration")


def test_upgrade_keeps_each_grants_unused_points(database_url: str) -> None:
    migrate.upgrade(database_url, BEFORE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO customers (id, name, created_at) VALUES (1, 'Olga', :t)"),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO loyalty_accounts (customer_id, balance_points, owed_points, "
                    "written_off_points, updated_at) VALUES (1, 3, 0, 0, :t)"
                ),
                {"t": T0},
            )
            for entry_id, kind, points, key, expires in LEDGER:
                conn.execute(
                    text(
                        "INSERT INTO ledger_entries (id, customer_id, kind, points, "
                        "shortfall_points, reason, source, idempotency_key, request_fingerprint, "
                        "created_at, expires_at) VALUES (:id, 1, :kind, :points, 0, 'Why', "
                        "'s', :key, 'f', :t, :expires_at)"
                    ),
                    {
                        "id": entry_id,
                        "kind": kind,
                        "points": points,
                        "key": key,
                        "t": T0,
                        "expires_at": T0.replace(year=2027) if expires else None,
                    },
                )
            for n, (debit, grant, points) in enumerate(ALLOCATIONS, start=1):
                conn.execute(
                    text(
                        "INSERT INTO ledger_allocations (id, debit_entry_id, grant_entry_id, "
                        "points) VALUES (:n, :debit, :grant, :points)"
                    ),
                    {"n": n, "debit": debit, "grant": grant, "points": points},
                )

        migrate.upgrade(database_url, RUNNING_FIGURES)

        with engine.connect() as conn:
            unused = conn.execute(
                text("SELECT entry_id, customer_id, unused_points FROM ledger_unused_grants")
            ).all()
            version = conn.execute(text("SELECT version FROM loyalty_accounts")).scalar_one()
        assert [tuple(row) for row in unused] == [(2, 1, 3)]
        assert version == 0

        migrate.downgrade(database_url, BEFORE)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        assert kept == len(LEDGER)
    finally:
        engine.dispose()

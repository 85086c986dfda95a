"""``roundtrip simulate``: a line a day, the totals, the JSON; days already simulated and
out-of-range options are refused with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from app.cli import main

WALL = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
ONE_SMALL_DAY = [
    "simulate",
    "--days",
    "1",
    "--orders-per-day",
    "6",
    "--start",
    "2026-11-02",
    "--time-limit",
    "1",
    "--no-draft-wave",
]


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("ROUNDTRIP_LANGUAGES", "en,ru")


def test_a_small_day_prints_its_line_and_totals_and_writes_json(
    app: Flask, tmp_path: Path, clock: Callable[..., None]
) -> None:
    clock(WALL)
    out = tmp_path / "figures.json"

    result = app.test_cli_runner().invoke(main, args=[*ONE_SMALL_DAY, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "2 November 2026: 6 orders, delivered inside the window" in result.output
    assert "delivered inside the promised window" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["settings"]["start"] == "2026-11-02"
    assert report["total"]["orders"] == 6
    assert [d["first_day"] for d in report["days"]] == ["2026-11-02"]
    assert set(report["total"]["shares"]) == {
        "inside_window",
        "arrived_inside",
        "kept_by_plan",
        "first_attempt",
        "told_before_late",
    }

    again = app.test_cli_runner().invoke(main, args=ONE_SMALL_DAY)

    assert again.exit_code == 1
    assert "already has 6 orders" in again.output


@pytest.mark.parametrize(
    ("option", "value"), [("--days", "61"), ("--orders-per-day", "5001"), ("--days", "0")]
)
def test_out_of_range_sizes_are_refused(app: Flask, option: str, value: str) -> None:
    args = ["simulate", "--days", "1", "--orders-per-day", "1", option, value]

    result = app.test_cli_runner().invoke(main, args=args)

    assert result.exit_code == 2
    assert option in result.output

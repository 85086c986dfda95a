"""The dashboard's pages: who may see them, what they show, and what they refuse."""

from __future__ import annotations

import re

import pytest

from app.dashboard import charts
from tests.dashboard.test_dashboard_figures import NOW, _month


def test_the_dashboard_shows_each_figure_with_its_chart_and_links_to_its_list(
    client, session, world, login_as, clock
):
    clock(NOW)
    _month(session, world, 1)
    session.commit()
    login_as("dispatcher")

    page = client.get(f"/dashboard/?depot={world.depot.id}&weeks=4")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for figure in (
        "on_time",
        "stops_completed",
        "first_attempt",
        "plans_feasible",
        "returns_kept",
        "ratings",
        "nps",
        "bonuses",
        "callbacks_kept",
    ):
        assert f'data-testid="chart-{figure}"' in html, figure
        assert f'href="/dashboard/{figure}/2030-03-11?depot={world.depot.id}"' in html, figure
    assert "<polyline" in html
    assert 'data-testid="gap"' in html
    # The headline is the last whole week: Monday 11 March, not the week still under way.
    assert "Each big figure is for the week of 11 Mar–17 Mar 2030" in html

    listed = client.get(f"/dashboard/on_time/2030-03-11?depot={world.depot.id}")
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert re.search(r'data-testid="list-total">\d+ rows? counted', text)
    assert "Promised at checkout" in text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/dashboard/?depot=999999", 404),
        ("/dashboard/?depot=abc", 404),
        ("/dashboard/?weeks=100000000000000000000", 200),
        ("/dashboard/nonsense/2030-03-11", 404),
        ("/dashboard/on_time/2030-13-45", 404),
        ("/dashboard/on_time/1066-10-14", 404),
    ],
)
def test_the_dashboard_refuses_what_it_does_not_know(client, world, login_as, clock, path, status):
    clock(NOW)
    login_as("support")
    assert client.get(path).status_code == status


def test_couriers_and_customers_do_not_see_the_dashboard(client, login_as, clock):
    clock(NOW)
    login_as("courier")
    assert client.get("/dashboard/").status_code == 403


def test_a_chart_breaks_its_line_where_a_week_has_no_figure_and_keeps_the_trend_visible():
    chart = charts.line_chart({"share": [97.0, None, 98.5, 99.0]}, ceiling=100)

    (line,) = chart.lines
    assert len(line.segments) == 2  # 97 alone, then 98.5-99
    assert [p.index for p in line.points] == [0, 2, 3]
    assert chart.ticks[0].value >= 95  # not a 0-100 axis where 97-99 looks flat
    assert chart.ticks[-1].value <= 100
    ys = [p.y for p in line.points]
    assert ys[0] > ys[1] > ys[2]  # higher figures are drawn higher (smaller y)

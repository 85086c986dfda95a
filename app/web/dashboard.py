"""The service dashboard (Q2): the customer's figures beside the ones the company would rate
itself on, per depot and week, as charts drawn on the server; every figure opens the list it
counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from app.dashboard import charts
from app.dashboard import figures as fig
from app.dashboard.lists import SHOP_WIDE, Figure, figure_list
from app.db import utcnow
from app.fleet.models import Depot
from app.web import bounds, words
from app.web.auth import area_required
from app.web.database import db
from app.web.words import word

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

WEEK_CHOICES = (4, 8, 12, 26)

FIGURE_TITLES = {
    Figure.ON_TIME: _l("Delivered when we said"),
    Figure.FIRST_ATTEMPT: _l("Delivered at the first attempt"),
    Figure.RETURNS_KEPT: _l("Returns answered by their promise"),
    Figure.RATINGS: _l("Delivery ratings"),
    Figure.NPS: _l("Would recommend us (NPS)"),
    Figure.BONUSES: _l("Apology bonuses"),
    Figure.CALLBACKS_KEPT: _l("Callbacks kept"),
    Figure.PLANS_FEASIBLE: _l("Plans that routed every stop"),
    Figure.STOPS_COMPLETED: _l("Stops completed"),
}
FIGURE_HELP = {
    Figure.ON_TIME: _l(
        "The courier arrived inside the window promised at checkout, or inside the new "
        "window we told the customer. An order not delivered counts as late."
    ),
    Figure.FIRST_ATTEMPT: _l("Orders delivered at their first visit."),
    Figure.RETURNS_KEPT: _l(
        "Return cases answered by the time we promised; a return decided at once counts as kept."
    ),
    Figure.RATINGS: _l("Mean of the 1–5 stars customers gave the week's deliveries."),
    Figure.NPS: _l("Per cent who answered 9 or 10, minus per cent who answered 0 to 6."),
    Figure.BONUSES: _l(
        "Points credited to say sorry: late deliveries, faulty goods, late answers, held orders."
    ),
    Figure.CALLBACKS_KEPT: _l("Callbacks answered within the half hour the customer chose."),
    Figure.PLANS_FEASIBLE: _l("Days whose last published plan left no stop unrouted."),
    Figure.STOPS_COMPLETED: _l("Due stops the courier reported done, delivered or not."),
}
COLUMN_NAMES = {
    "order": _l("Order"),
    "customer": _l("Customer"),
    "day": _l("Day"),
    "promised": _l("Promised at checkout"),
    "told": _l("Last told"),
    "arrived": _l("Courier arrived"),
    "outcome": _l("Outcome"),
    "score": _l("Score"),
    "comment": _l("Comment"),
    "case": _l("Case"),
    "opened": _l("Opened"),
    "promised_by": _l("Answer promised by"),
    "answered": _l("Answered"),
    "group": _l("Group"),
    "credited": _l("Credited"),
    "cause": _l("Cause"),
    "points": _l("Points"),
    "reason": _l("Reason"),
    "slot": _l("Slot"),
    "version": _l("Version"),
    "routed": _l("Routed"),
    "unrouted": _l("Not routed"),
}
CAUSE_NAMES = {
    fig.Cause.LATE: _l("late delivery"),
    fig.Cause.FAULTY: _l("faulty goods"),
    fig.Cause.RETURN_PROMISE: _l("late answer to a return"),
    fig.Cause.HELD: _l("order held"),
}
NPS_GROUPS = {
    "promoter": _l("promoter"),
    "passive": _l("passive"),
    "detractor": _l("detractor"),
}
SERIES_NAMES = {
    "promise": _l("inside what we promised or last told"),
    "checkout": _l("inside the checkout window"),
    "customer": _l("customers' figure"),
    "company": _l("company's figure"),
    "share": _l("share"),
    "mean": _l("mean stars"),
    "score": _l("score"),
    "points": _l("points"),
}


def percent(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{format_decimal(share * 100, format='#,##0.0')}\u00a0%"


def _depot_id() -> int | None:
    raw = request.args.get("depot", "")
    if not raw:
        return None
    if not bounds.is_id(raw) or db().get(Depot, int(raw)) is None:
        abort(404)
    return int(raw)


def _weeks() -> int:
    """The number of weeks asked for, kept within what the page shows."""
    try:
        value = int(request.args.get("weeks", fig.WEEKS_DEFAULT))
    except ValueError:
        return fig.WEEKS_DEFAULT
    return max(fig.WEEKS_MIN, min(fig.WEEKS_MAX, value))


def _shop_timezone() -> str:
    return str(current_app.config.get("SCHEDULER_TIMEZONE") or "Europe/Moscow")


def _latest(weeks: list[fig.Week], today: date) -> int:
    """The week the headline figure speaks of: the last whole week (this one is not over)."""
    return len(weeks) - 2 if len(weeks) > 1 and weeks[-1].end >= today else len(weeks) - 1


def _card(
    figure: Figure,
    series: dict[str, list[float | None]],
    headline: str,
    detail: str,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
    unit: str = "",
) -> dict[str, Any]:
    return {
        "figure": figure.value,
        "title": FIGURE_TITLES[figure],
        "help": FIGURE_HELP[figure],
        "headline": headline,
        "detail": detail,
        "chart": charts.line_chart(series, floor=floor, ceiling=ceiling),
        "unit": unit,
        "shop_wide": figure in SHOP_WIDE,
    }


def _cards(board: fig.Dashboard) -> dict[str, Any]:
    weeks = board.weeks
    at = _latest(weeks, board.today)
    week = weeks[at]

    def shares(pick: Any) -> list[float | None]:
        return [None if (s := pick(w).share) is None else 100 * s for w in weeks]

    def counted(ratio: fig.Ratio) -> str:
        return str(
            _l(
                "%(hit)s of %(total)s",
                hit=format_decimal(ratio.hit),
                total=format_decimal(ratio.total),
            )
        )

    def share_card(figure: Figure, attr: str, extra: str = "") -> dict[str, Any]:
        """A share of the week's rows, charted as per cent."""
        ratio: fig.Ratio = getattr(week, attr)
        series = {"share": shares(lambda w: getattr(w, attr))}
        if figure == Figure.ON_TIME:  # what we said, beside the checkout promise alone
            series = {"promise": series["share"], "checkout": shares(lambda w: w.on_time_checkout)}
        return _card(
            figure,
            series,
            percent(ratio.share),
            counted(ratio) + extra,
            ceiling=100,
            unit="%",
        )

    on_time = share_card(Figure.ON_TIME, "on_time")
    completed = share_card(Figure.STOPS_COMPLETED, "stops_completed")
    first = share_card(Figure.FIRST_ATTEMPT, "first_attempt")
    plans = share_card(Figure.PLANS_FEASIBLE, "plans_feasible")
    hours = week.return_hours_median
    median_answer = (
        ""
        if hours is None
        else " · " + str(_l("median answer %(hours)s h", hours=format_decimal(round(hours, 1))))
    )
    returns = share_card(Figure.RETURNS_KEPT, "returns_kept", median_answer)
    mean = week.ratings.mean
    ratings = _card(
        Figure.RATINGS,
        {"mean": [w.ratings.mean for w in weeks]},
        "—" if mean is None else format_decimal(round(mean, 2)),
        str(
            _l(
                "%(count)s ratings, %(low)s of 1 or 2 stars",
                count=format_decimal(week.ratings.count),
                low=format_decimal(week.ratings.low),
            )
        ),
        floor=1,
        ceiling=5,
    )
    score = week.nps.score
    nps = _card(
        Figure.NPS,
        {"score": [w.nps.score for w in weeks]},
        "—" if score is None else format_decimal(round(score)),
        str(_l("%(count)s answers", count=format_decimal(week.nps.answers))),
        floor=-100,
        ceiling=100,
    )
    causes = ", ".join(
        f"{word(CAUSE_NAMES, c)} {format_decimal(p)}"
        for c in fig.Cause.ALL
        if (p := week.bonuses.by_cause.get(c))
    )
    bonuses = _card(
        Figure.BONUSES,
        {"points": [float(w.bonuses.points) for w in weeks]},
        format_decimal(week.bonuses.points),
        str(_l("%(count)s bonuses", count=format_decimal(week.bonuses.count)))
        + (f" · {causes}" if causes else ""),
        floor=0,
    )
    callbacks = share_card(Figure.CALLBACKS_KEPT, "callbacks_kept")
    gap = None
    if week.on_time.share is not None and week.stops_completed.share is not None:
        gap = 100 * (week.stops_completed.share - week.on_time.share)
    return {
        "pairs": [(on_time, completed), (first, plans)],
        "customer": [returns, ratings, nps, bonuses, callbacks],
        "week": week,
        "gap": gap,
    }


@bp.get("/")
@area_required("dashboard")
def index() -> str:
    depot_id = _depot_id()
    weeks = _weeks()
    board = fig.dashboard(
        db(), now=utcnow(), depot_id=depot_id, shop_timezone=_shop_timezone(), weeks=weeks
    )
    return render_template(
        "dashboard/index.html",
        board=board,
        depots=fig.depots(db()),
        depot_id=depot_id,
        weeks=weeks,
        week_choices=WEEK_CHOICES,
        series_name=lambda code: word(SERIES_NAMES, code),
        percent=percent,
        gap_percent=lambda v: format_decimal(round(v, 1)),
        link=lambda figure, start: url_for(
            "dashboard.figure", figure=figure, week=start.isoformat(), depot=depot_id
        ),
        **_cards(board),
    )


@bp.get("/<figure>/<week>")
@area_required("dashboard")
def figure(figure: str, week: str) -> str:
    try:
        chosen = Figure(figure)
        start = date.fromisoformat(week)
    except ValueError:
        abort(404)
    if not date(2000, 1, 1) <= start <= date(2100, 1, 1):
        abort(404)
    depot_id = None if chosen in SHOP_WIDE else _depot_id()
    depot = db().get_one(Depot, depot_id) if depot_id is not None else None
    zone = depot.timezone if depot is not None else _shop_timezone()
    page = figure_list(
        db(), figure=chosen, week=start, depot_id=depot_id, now=utcnow(), timezone=zone
    )
    return render_template(
        "dashboard/list.html",
        page=page,
        week_end=page.week + timedelta(days=6),
        title=FIGURE_TITLES[chosen],
        help=FIGURE_HELP[chosen],
        depot=depot,
        zone=zone,
        shop_wide=chosen in SHOP_WIDE,
        column_name=lambda code: word(COLUMN_NAMES, code),
        cause_name=lambda code: word(CAUSE_NAMES, code),
        nps_group=lambda code: word(NPS_GROUPS, code),
        outcome_name=lambda code: (
            word(words.VISIT_OUTCOME_NAMES, code)
            if code in words.VISIT_OUTCOME_NAMES
            else word(words.FAILURE_REASON_NAMES, code)
        ),
        back=url_for("dashboard.index", depot=depot_id),
    )

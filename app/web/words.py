"""Words for the codes people see (roles, statuses, kinds), in the page's language.

Lazy strings: they are translated when a page renders them, in that page's language.
Templates reach them through the filters registered in app.web.filters.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# English words equal the codes where the pages always said the code (the header's role).
ROLE_NAMES = {
    "admin": _l("admin"),
    "dispatcher": _l("dispatcher"),
    "support": _l("support"),
    "courier": _l("courier"),
    "customer": _l("customer"),
}

ORDER_STATUS_NAMES = {
    "new": _l("new"),
    "planned": _l("planned"),
    "out_for_delivery": _l("out for delivery"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "held": _l("held"),
    "cancelled": _l("cancelled"),
}

# What a courier reported at a stop, as the stop's result (the same words as the order's).
VISIT_OUTCOME_NAMES = {
    "arrived": _l("arrived"),
    "delivered": _l("delivered"),
    "collected": _l("collected"),
    "exchanged": _l("exchanged"),
    "failed": _l("failed"),
}

# What kind of work a stop is, for the people who do it.
STOP_KIND_NAMES = {
    "delivery": _l("delivery"),
    "pickup": _l("return pickup"),
    "exchange": _l("exchange"),
}

# Why a courier could not complete a stop, as the courier picks it (app.planning.enums).
FAILURE_REASON_NAMES = {
    "not_home": _l("Nobody home"),
    "wrong_address": _l("Wrong address"),
    "refused": _l("Refused by the customer"),
    "damaged": _l("Goods damaged"),
    "other": _l("Something else"),
}

# Why a customer sends something back, as they pick it (returns.policy.ReturnReason).
RETURN_REASON_NAMES = {
    "defective": _l("It does not work (defective)"),
    "damaged": _l("It arrived damaged"),
    "wrong_item": _l("It is not what I ordered"),
    "not_as_described": _l("It is not as described"),
    "changed_mind": _l("I changed my mind"),
}

# What the customer would like instead (returns.policy.Resolution).
RESOLUTION_NAMES = {
    "exchange": _l("A new one, swapped at the door"),
    "replacement": _l("A replacement brought to me"),
    "refund": _l("My money back"),
}

# Where a return stands, for the customer.
RETURN_STATUS_NAMES = {
    "approved": _l("approved"),
    "under_review": _l("being looked at"),
    "declined": _l("declined"),
    "received": _l("received"),
    "closed": _l("closed"),
}

ENTRY_KIND_NAMES = {
    "earn": _l("earned"),
    "redeem": _l("paid with points"),
    "bonus": _l("bonus"),
    "reversal": _l("taken back (refund)"),
    "return": _l("returned (refund)"),
    "expiry": _l("expired"),
    "adjustment": _l("adjustment"),
    "settlement": _l("debt paid off"),
}

COORDINATE_SOURCE_NAMES = {
    "given": _l("given"),
    "geocoded": _l("found on the map"),
}

VEHICLE_TYPE_NAMES = {
    "bike": _l("bike"),
    "car": _l("car"),
    "van": _l("van"),
}


def word(names: dict[str, object], code: object) -> str:
    """The word for ``code`` in ``names``; an unknown code is shown as it is."""
    key = str(code)
    return str(names.get(key, key))


# What a line of a customer's history is (app.history.events.EventKind), for its filter.
HISTORY_KIND_NAMES = {
    "order_placed": _l("orders placed"),
    "delivery": _l("deliveries"),
    "notification": _l("messages sent"),
    "return": _l("returns"),
    "points": _l("points"),
    "rating": _l("ratings"),
    "nps": _l("recommendation scores"),
    "support_case": _l("support cases"),
    "callback": _l("callbacks"),
    "staff_note": _l("staff notes"),
}

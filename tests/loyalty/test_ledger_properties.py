"""Property: whatever the customer, the shop and the calendar do, the balance never goes
below zero and always equals the sum of the entries (and of the grants' unused points)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.policy import LoyaltyRules
from tests.loyalty.conftest import T0, assert_consistent
from tests.loyalty.operations import OPERATIONS, perform


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS, policy=st.sampled_from(["write_off", "debt"]))
def test_any_sequence_keeps_the_ledger_consistent(session, customer, operations, policy):
    example = session.begin_nested()
    try:
        perform(
            session,
            customer,
            operations,
            now=T0,
            rules=LoyaltyRules(shortfall_policy=policy),
            after_each=lambda s: assert_consistent(s, customer),
        )
    finally:
        example.rollback()

"""The programme's rules, read from configuration; pure arithmetic, no database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ShortfallPolicy = Literal["write_off", "debt"]


@dataclass(frozen=True, slots=True)
class LoyaltyRules:
    earn_percent: int = 5  # of what the customer paid in money
    point_value_minor: int = 100  # one point pays 1.00 of the currency
    redeem_cap_percent: int = 30  # of an order's value
    grant_lifetime_days: int = 365
    # A refund reverses what the order earned. If the customer already spent those points,
    # "write_off" forgives the rest; "debt" records it and takes it from future points.
    shortfall_policy: ShortfallPolicy = "write_off"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LoyaltyRules:
        env = os.environ if env is None else env
        policy = env.get("ROUNDTRIP_LOYALTY_SHORTFALL", "write_off")
        if policy not in ("write_off", "debt"):
            raise ValueError("ROUNDTRIP_LOYALTY_SHORTFALL must be write_off or debt")
        return cls(
            earn_percent=int(env.get("ROUNDTRIP_LOYALTY_EARN_PERCENT", "5")),
            point_value_minor=int(env.get("ROUNDTRIP_LOYALTY_POINT_VALUE_MINOR", "100")),
            redeem_cap_percent=int(env.get("ROUNDTRIP_LOYALTY_REDEEM_CAP_PERCENT", "30")),
            grant_lifetime_days=int(env.get("ROUNDTRIP_LOYALTY_LIFETIME_DAYS", "365")),
            shortfall_policy=policy,  # type: ignore[arg-type]
        )

    def points_earned(self, paid_minor: int) -> int:
        return max(0, paid_minor) * self.earn_percent // (100 * self.point_value_minor)

    def redeem_cap(self, order_total_minor: int) -> int:
        """The most points an order of this value may take."""
        return max(0, order_total_minor) * self.redeem_cap_percent // (100 * self.point_value_minor)

    @staticmethod
    def share(points: int, part_minor: int, whole_minor: int) -> int:
        """The part of ``points`` that belongs to ``part`` of ``whole``, rounded down."""
        if whole_minor <= 0:
            return 0
        return points * min(part_minor, whole_minor) // whole_minor

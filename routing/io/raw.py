"""An instance exactly as its file states it, before any scaling or rounding.

The readers produce a :class:`RawInstance`; ``routing.io.instances`` turns it into the
integer :class:`~routing.model.Problem` handed to the solvers, and ``routing.io.recheck``
judges plans against these numbers alone, so that a mistake in the conversion cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Convention = Literal["solomon", "dimacs"]

# Each convention's time unit: times are kept as integers after multiplying by this, so a
# time in the file may have at most this many decimal places (Solomon 2, DIMACS 1).
SCALE: dict[Convention, int] = {"solomon": 100, "dimacs": 10}


class InstanceError(ValueError):
    """The instance file is malformed; the message names the file, the line and the field."""


@dataclass(frozen=True, slots=True)
class Node:
    """One row of the instance: node 0 is the depot, node i is customer i."""

    line: int  # the file line this node's coordinates are on (1-based)
    x: float
    y: float
    demand: int
    ready: Decimal  # earliest service start (the depot's: when vehicles may leave)
    due: Decimal  # latest service start (the depot's: when vehicles must be back)
    service: Decimal


@dataclass(frozen=True, slots=True)
class RawInstance:
    name: str
    source: str  # the file, for messages
    convention: Convention
    vehicles: int
    capacity: int
    nodes: tuple[Node, ...]  # nodes[0] is the depot

    @property
    def scale(self) -> int:
        return SCALE[self.convention]

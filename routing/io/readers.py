"""Solomon and VRPLIB instance text, read line by line into a :class:`RawInstance`.

We read these files ourselves rather than through the ``vrplib`` package: its Solomon reader
parses the table as integers and turns every coordinate with decimals (``47.70``) into -1
without a word, and neither of its readers can say on which line a bad value stands. Here
every value is checked where it is read, and a malformed file is refused with an
:class:`InstanceError` naming the file, the line and the field.

Decisions:
- Coordinates may have decimals; they are read exactly (as floats).
- Demands, capacity and vehicle counts are whole numbers (``10`` or ``10.0``); ``10.5`` is
  refused, never rounded.
- Times (ready, due, service) may have decimals down to the convention's time unit
  (Solomon 0.01, DIMACS 0.1), which the integer problem represents exactly; a finer time
  is refused rather than rounded.
- A Solomon file does not state how many customers it has, so a file cut off between two
  whole rows cannot be told from a shorter instance; a row cut off part-way is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import NoReturn

from routing.io.raw import SCALE, Convention, InstanceError, Node, RawInstance

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_LIMIT = Decimal(10) ** 9  # larger magnitudes would overflow the scaled integer matrices

SOLOMON_COLUMNS = (
    "CUST NO.",
    "XCOORD.",
    "YCOORD.",
    "DEMAND",
    "READY TIME",
    "DUE DATE",
    "SERVICE TIME",
)


class _Reader:
    """Number parsing that names the file, line and field of anything it refuses."""

    def __init__(self, source: str, convention: Convention) -> None:
        self.source = source
        self.convention = convention
        self.scale = SCALE[convention]

    def fail(self, line: int, field: str | None, message: str) -> NoReturn:
        where = f"{self.source}, line {line}"
        raise InstanceError(f"{where}, {field}: {message}" if field else f"{where}: {message}")

    def number(self, token: str, line: int, field: str) -> Decimal:
        if not _NUMBER.fullmatch(token):
            self.fail(line, field, f"{token!r} is not a number")
        value = Decimal(token)
        if abs(value) > _LIMIT:
            self.fail(line, field, f"{token} is out of range (at most 1e9 in magnitude)")
        return value

    def integer(self, token: str, line: int, field: str) -> int:
        value = self.number(token, line, field)
        if value != value.to_integral_value():
            self.fail(line, field, f"{token} must be a whole number")
        return int(value)

    def count(self, token: str, line: int, field: str, what: str) -> int:
        value = self.integer(token, line, field)
        if value < 1:
            self.fail(line, field, f"must be at least 1 {what}, got {token}")
        return value

    def coordinate(self, token: str, line: int, field: str) -> float:
        return float(self.number(token, line, field))

    def time(self, token: str, line: int, field: str) -> Decimal:
        value = self.number(token, line, field)
        if value < 0:
            self.fail(line, field, f"must not be negative, got {token}")
        if (value * self.scale) % 1 != 0:
            self.fail(
                line,
                field,
                f"{token} is finer than the {self.convention} time unit "
                f"(1/{self.scale}); it would have to be rounded",
            )
        return value

    def demand(self, token: str, line: int, field: str, capacity: int, depot: bool) -> int:
        value = self.integer(token, line, field)
        if value < 0:
            self.fail(line, field, f"must not be negative, got {token}")
        if depot and value != 0:
            self.fail(line, field, f"the depot's demand must be 0, got {token}")
        if value > capacity:
            self.fail(
                line,
                field,
                f"{value} is more than the vehicle capacity {capacity}: no vehicle "
                "could serve this customer",
            )
        return value

    def window(
        self, ready: str, due: str, line: int, fields: tuple[str, str]
    ) -> tuple[Decimal, Decimal]:
        early = self.time(ready, line, fields[0])
        late = self.time(due, line, fields[1])
        if late < early:
            self.fail(line, fields[1], f"{due} is before {fields[0]} {ready}")
        return early, late

    def service(self, token: str, line: int, field: str, depot: bool) -> Decimal:
        value = self.time(token, line, field)
        if depot and value != 0:
            self.fail(line, field, f"the depot's service time must be 0, got {token}")
        return value


def _lines(text: str) -> tuple[list[tuple[int, list[str]]], int]:
    """Non-blank lines as (line number, tokens), and the number of the line after the last."""
    physical = text.splitlines()
    rows = [(n, line.split()) for n, line in enumerate(physical, start=1) if line.strip()]
    return rows, len(physical) + 1


def read_solomon(text: str, source: str, convention: Convention = "solomon") -> RawInstance:
    """A Solomon VRPTW file: name, VEHICLE block, CUSTOMER table with the depot as row 0."""
    r = _Reader(source, convention)
    rows, end = _lines(text)
    if not rows:
        raise InstanceError(f"{source}: the file is empty")

    def need(i: int, what: str) -> tuple[int, list[str]]:
        if i >= len(rows):
            r.fail(end, None, f"the file ends here; expected {what}")
        return rows[i]

    def heading(i: int, words: Sequence[str], what: str) -> None:
        line, tokens = need(i, what)
        text = " ".join(tokens)
        if not all(w in tokens for w in words):
            r.fail(line, None, f"expected {what}, found {text!r}")

    name = " ".join(rows[0][1])
    heading(1, ["VEHICLE"], "the heading 'VEHICLE'")
    heading(2, ["NUMBER", "CAPACITY"], "the heading 'NUMBER CAPACITY'")
    line, tokens = need(3, "the vehicle count and capacity")
    if len(tokens) != 2:
        r.fail(line, None, f"expected 2 values (NUMBER, CAPACITY), found {len(tokens)}")
    vehicles = r.count(tokens[0], line, "NUMBER", "vehicle")
    capacity = r.count(tokens[1], line, "CAPACITY", "unit")
    heading(4, ["CUSTOMER"], "the heading 'CUSTOMER'")
    heading(
        5,
        ["CUST", "NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY", "DUE", "DATE", "SERVICE", "TIME"],
        "the column headings '" + "  ".join(SOLOMON_COLUMNS) + "'",
    )
    nodes: list[Node] = []
    for line, tokens in rows[6:]:
        nodes.append(_solomon_row(r, line, tokens, len(nodes), capacity))
    if not nodes:
        r.fail(end, None, "the file ends here; expected the depot's row (CUST NO. 0)")
    if len(nodes) == 1:
        r.fail(end, None, "the file ends here; expected customer rows after the depot's")
    return RawInstance(name, source, convention, vehicles, capacity, tuple(nodes))


def _solomon_row(r: _Reader, line: int, tokens: list[str], index: int, capacity: int) -> Node:
    width = len(SOLOMON_COLUMNS)
    if len(tokens) < width:
        missing = ", ".join(SOLOMON_COLUMNS[len(tokens) :])
        r.fail(line, None, f"expected {width} columns, found {len(tokens)}: {missing} missing")
    if len(tokens) > width:
        r.fail(line, None, f"expected {width} columns, found {len(tokens)}")
    number = r.integer(tokens[0], line, "CUST NO.")
    if number != index:
        r.fail(
            line,
            "CUST NO.",
            f"expected {index}, found {tokens[0]} (the depot is 0, then customers 1, 2, 3, ... "
            "in order)",
        )
    depot = index == 0
    x = r.coordinate(tokens[1], line, "XCOORD.")
    y = r.coordinate(tokens[2], line, "YCOORD.")
    demand = r.demand(tokens[3], line, "DEMAND", capacity, depot)
    ready, due = r.window(tokens[4], tokens[5], line, ("READY TIME", "DUE DATE"))
    service = r.service(tokens[6], line, "SERVICE TIME", depot)
    return Node(line, x, y, demand, ready, due, service)


_SPECS = {
    "NAME",
    "TYPE",
    "COMMENT",
    "DIMENSION",
    "VEHICLES",
    "CAPACITY",
    "SERVICE_TIME",
    "EDGE_WEIGHT_TYPE",
}
# section -> the columns after the node number
_SECTIONS: dict[str, tuple[str, ...]] = {
    "NODE_COORD_SECTION": ("x", "y"),
    "DEMAND_SECTION": ("demand",),
    "TIME_WINDOW_SECTION": ("ready", "due"),
    "SERVICE_TIME_SECTION": ("service time",),
    "DEPOT_SECTION": (),
}
_REQUIRED = ("NODE_COORD_SECTION", "DEMAND_SECTION", "TIME_WINDOW_SECTION", "DEPOT_SECTION")

Rows = list[tuple[int, list[str]]]


def read_vrplib(text: str, source: str, convention: Convention = "dimacs") -> RawInstance:
    """A VRPLIB VRPTW file with EUC_2D coordinates and a single depot at node 1."""
    r = _Reader(source, convention)
    rows, end = _lines(text)
    if not rows:
        raise InstanceError(f"{source}: the file is empty")
    specs: dict[str, tuple[int, str]] = {}
    sections: dict[str, tuple[int, Rows]] = {}
    current: str | None = None
    for line, tokens in rows:
        first = tokens[0].rstrip(":").upper()
        if first == "EOF":
            break
        if first.endswith("_SECTION"):
            if first not in _SECTIONS:
                r.fail(line, None, f"{first} is not supported (known: {', '.join(_SECTIONS)})")
            if first in sections:
                r.fail(line, None, f"{first} appears a second time")
            if any(t != ":" for t in tokens[1:]):
                r.fail(line, first, "the heading must stand on a line of its own")
            current = first
            sections[first] = (line, [])
        elif current is None:
            joined = " ".join(tokens)
            if ":" not in joined:
                r.fail(line, None, f"expected 'KEY : value' or a *_SECTION heading: {joined!r}")
            key, value = (part.strip() for part in joined.split(":", 1))
            key = key.upper()
            if key not in _SPECS:
                r.fail(line, key, f"is not supported (known: {', '.join(sorted(_SPECS))})")
            if key in specs:
                r.fail(line, key, "appears a second time")
            specs[key] = (line, value)
        elif any(":" in t for t in tokens):
            r.fail(line, None, f"a specification after the sections began: {' '.join(tokens)!r}")
        else:
            sections[current][1].append((line, tokens))

    def spec(key: str) -> tuple[int, str]:
        if key not in specs:
            r.fail(rows[0][0], key, "is missing")
        return specs[key]

    if "TYPE" in specs and specs["TYPE"][1].upper() not in ("VRPTW", "CVRPTW"):
        r.fail(specs["TYPE"][0], "TYPE", f"{specs['TYPE'][1]!r} is not supported; only VRPTW")
    if "EDGE_WEIGHT_TYPE" in specs and specs["EDGE_WEIGHT_TYPE"][1].upper() != "EUC_2D":
        line, value = specs["EDGE_WEIGHT_TYPE"]
        r.fail(line, "EDGE_WEIGHT_TYPE", f"{value!r} is not supported; only EUC_2D")
    line, value = spec("DIMENSION")
    dimension = r.count(value, line, "DIMENSION", "node")
    if dimension < 2:
        r.fail(line, "DIMENSION", "an instance needs the depot and at least one customer")
    line, value = spec("CAPACITY")
    capacity = r.count(value, line, "CAPACITY", "unit")
    vehicles = dimension - 1  # VRPLIB: no limit stated means as many as needed
    if "VEHICLES" in specs:
        line, value = specs["VEHICLES"]
        vehicles = r.count(value, line, "VEHICLES", "vehicle")
    for name in _REQUIRED:
        if name not in sections:
            last = rows[-1][0] + 1 if current is None else end
            r.fail(last, None, f"the file has no {name}")

    def table(name: str) -> Rows:
        heading, body = sections[name]
        columns = _SECTIONS[name]
        if len(body) < dimension:
            after = body[-1][0] + 1 if body else heading + 1
            r.fail(
                after,
                name,
                f"has {len(body)} rows, DIMENSION says {dimension} (section starts on line "
                f"{heading})",
            )
        if len(body) > dimension:
            r.fail(body[dimension][0], name, f"has more rows than DIMENSION {dimension}")
        for i, (line, tokens) in enumerate(body):
            if len(tokens) != 1 + len(columns):
                names = ", ".join(("node", *columns))
                r.fail(
                    line, name, f"expected {1 + len(columns)} values ({names}), found {len(tokens)}"
                )
            node = r.integer(tokens[0], line, f"{name} node")
            if node != i + 1:
                r.fail(
                    line,
                    name,
                    f"expected node {i + 1}, found {tokens[0]} (nodes 1..{dimension} in order)",
                )
        return body

    coords = table("NODE_COORD_SECTION")
    demands = table("DEMAND_SECTION")
    windows = table("TIME_WINDOW_SECTION")
    if "SERVICE_TIME_SECTION" in sections and "SERVICE_TIME" in specs:
        r.fail(
            specs["SERVICE_TIME"][0], "SERVICE_TIME", "given both here and as SERVICE_TIME_SECTION"
        )
    services = table("SERVICE_TIME_SECTION") if "SERVICE_TIME_SECTION" in sections else None
    everyone = Decimal(0)
    if "SERVICE_TIME" in specs:
        line, value = specs["SERVICE_TIME"]
        everyone = r.time(value, line, "SERVICE_TIME")
    _depot(r, sections["DEPOT_SECTION"])

    nodes = []
    for i in range(dimension):
        depot = i == 0
        line, (_, xs, ys) = coords[i]
        x = r.coordinate(xs, line, "NODE_COORD_SECTION x")
        y = r.coordinate(ys, line, "NODE_COORD_SECTION y")
        dline, (_, ds) = demands[i]
        demand = r.demand(ds, dline, "DEMAND_SECTION", capacity, depot)
        wline, (_, ready_s, due_s) = windows[i]
        ready, due = r.window(
            ready_s, due_s, wline, ("TIME_WINDOW_SECTION ready", "TIME_WINDOW_SECTION due")
        )
        if services is not None:
            sline, (_, ss) = services[i]
            service = r.service(ss, sline, "SERVICE_TIME_SECTION", depot)
        else:
            service = Decimal(0) if depot else everyone
        nodes.append(Node(line, x, y, demand, ready, due, service))
    name = specs["NAME"][1] if "NAME" in specs else ""
    return RawInstance(name, source, convention, vehicles, capacity, tuple(nodes))


def _depot(r: _Reader, section: tuple[int, Rows]) -> None:
    heading, body = section
    tokens = [(line, t) for line, ts in body for t in ts]
    if not tokens or tokens[-1][1] != "-1":
        r.fail(tokens[-1][0] if tokens else heading, "DEPOT_SECTION", "must end with -1")
    depots = tokens[:-1]
    if len(depots) != 1 or depots[0][1] != "1":
        line = depots[0][0] if depots else heading
        found = " ".join(t for _, t in depots) or "none"
        r.fail(line, "DEPOT_SECTION", f"Roundtrip reads one depot at node 1; found {found}")

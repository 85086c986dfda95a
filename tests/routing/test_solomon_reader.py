"""Instance files are read exactly or refused naming the line, and plans are re-checked on
the file's own numbers, independently of the matrix the solver was handed."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import feasibility
from routing.io import instances, readers
from routing.io.recheck import Kind
from routing.model import Problem
from routing.solver import SolveParameters, solve
from tests.routing.solomon import FIRST_ROW_LINE, random_solomon, small_rows, solomon_text

DATA = Path(__file__).resolve().parent / "data"


def write(tmp_path: Path, text: str, name: str = "x.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_decimal_coordinates_are_read_exactly(tmp_path):
    """47.70 50.49 is read as written (vrplib read it as -1 -1), and the integer matrix holds
    the Euclidean distance x100 rounded up, never the all-zero matrix of that misreading."""
    inst = instances.read(write(tmp_path, solomon_text(small_rows())))

    assert inst.raw.nodes[0].x == 47.70
    assert inst.raw.nodes[0].y == 50.49
    assert inst.coords.tolist()[1] == [45.25, 68.10]
    exact = math.dist((47.70, 50.49), (45.25, 68.10))
    assert inst.problem.distance_m[0, 1] == math.ceil(exact * 100)
    assert inst.problem.duration_s["default"][0, 1] == math.ceil(exact * 100)
    off_diagonal = inst.problem.distance_m[~np.eye(4, dtype=bool)]
    assert (off_diagonal > 0).all()


def test_decimal_times_within_the_time_unit_are_kept_exactly(tmp_path):
    """Solomon times are held in hundredths: 5.5 service becomes 550, 12.25 ready 1225."""
    rows = small_rows()
    rows[1][4] = "12.25"
    inst = instances.read(write(tmp_path, solomon_text(rows)))

    assert inst.problem.stops[2].service_s == 550
    assert inst.problem.stops[0].windows[0].early_s == 1225
    assert inst.raw.nodes[1].ready == Decimal("12.25")


def test_whole_numbers_written_with_decimals_are_accepted(tmp_path):
    """A demand of 10.0 is the whole number 10; the vehicle line may say 5.0 too."""
    rows = small_rows()
    rows[1][3] = "10.0"
    inst = instances.read(write(tmp_path, solomon_text(rows, vehicles="5.0")))

    assert inst.problem.stops[0].delivery == (10,)
    assert len(inst.problem.vehicles) == 5


def malformed(rows_edit, **header):  # type: ignore[no-untyped-def]
    rows = small_rows()
    rows_edit(rows)
    return solomon_text(rows, **header)


def _set(row: int, column: int, value: object):  # type: ignore[no-untyped-def]
    def edit(rows: list[list[object]]) -> None:
        rows[row][column] = value

    return edit


def _drop_last_column(row: int):  # type: ignore[no-untyped-def]
    def edit(rows: list[list[object]]) -> None:
        rows[row] = rows[row][:-1]

    return edit


def _add_column(row: int):  # type: ignore[no-untyped-def]
    def edit(rows: list[list[object]]) -> None:
        rows[row] = [*rows[row], 7]

    return edit


BAD_ROWS = [
    # (case, edit, customer row, field and words the message must contain)
    ("missing column", _drop_last_column(2), 2, "SERVICE TIME missing"),
    ("extra column", _add_column(1), 1, "expected 7 columns, found 8"),
    ("text in demand", _set(3, 3, "ten"), 3, "DEMAND: 'ten' is not a number"),
    ("text in x", _set(1, 1, "4O.5"), 1, "XCOORD.: '4O.5' is not a number"),
    ("nan coordinate", _set(1, 2, "nan"), 1, "YCOORD.: 'nan' is not a number"),
    ("infinite coordinate", _set(1, 2, "1e999"), 1, "YCOORD.: 1e999 is out of range"),
    ("due before ready", _set(2, 5, 50), 2, "DUE DATE: 50 is before READY TIME 100"),
    ("negative demand", _set(1, 3, -5), 1, "DEMAND: must not be negative"),
    ("fractional demand", _set(1, 3, "10.5"), 1, "DEMAND: 10.5 must be a whole number"),
    ("demand over capacity", _set(3, 3, 101), 3, "DEMAND: 101 is more than the vehicle capacity"),
    ("negative service", _set(2, 6, -1), 2, "SERVICE TIME: must not be negative"),
    ("negative ready", _set(2, 4, "-3"), 2, "READY TIME: must not be negative"),
    ("time finer than 1/100", _set(2, 5, "700.125"), 2, "DUE DATE: 700.125 is finer"),
    ("numbering gap", _set(2, 0, 5), 2, "CUST NO.: expected 2, found 5"),
    ("numbering repeat", _set(3, 0, 2), 3, "CUST NO.: expected 3, found 2"),
    ("depot not first", _set(0, 0, 1), 0, "CUST NO.: expected 0, found 1"),
    ("depot with demand", _set(0, 3, 4), 0, "DEMAND: the depot's demand must be 0"),
    ("depot with service", _set(0, 6, 4), 0, "SERVICE TIME: the depot's service time must be 0"),
]


@pytest.mark.parametrize(
    ("edit", "row", "words"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS]
)
def test_a_malformed_row_is_refused_naming_its_line_and_field(tmp_path, edit, row, words):
    """Every malformed value is refused, never read as something else, and the message
    names the file, the line of the row and the field."""
    path = write(tmp_path, malformed(edit))

    with pytest.raises(instances.InstanceError) as refused:
        instances.read(path)

    assert str(refused.value) == str(refused.value).strip()
    assert f"{path}, line {FIRST_ROW_LINE + row}" in str(refused.value)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("vehicles", "capacity", "words"),
    [
        (0, 100, "line 5, NUMBER: must be at least 1 vehicle"),
        (-2, 100, "line 5, NUMBER: must be at least 1 vehicle"),
        (5, 0, "line 5, CAPACITY: must be at least 1 unit"),
        ("five", 100, "line 5, NUMBER: 'five' is not a number"),
        ("2.5", 100, "line 5, NUMBER: 2.5 must be a whole number"),
    ],
)
def test_a_bad_vehicle_line_is_refused(tmp_path, vehicles, capacity, words):
    """The fleet line must hold a positive whole number of vehicles and of capacity."""
    path = write(tmp_path, solomon_text(small_rows(), vehicles=vehicles, capacity=capacity))

    with pytest.raises(instances.InstanceError, match=words):
        instances.read(path)


def test_a_file_cut_off_inside_a_row_is_refused_naming_that_line(tmp_path):
    """A download that stopped mid-row leaves a short last row: refused at that line."""
    text = solomon_text(small_rows())
    cut = text[: text.rindex("800") + 1]  # customer 3's row ends after its first digit of due
    path = write(tmp_path, cut)

    with pytest.raises(instances.InstanceError, match=r"line 13: expected 7 columns, found 6"):
        instances.read(path)


@pytest.mark.parametrize(
    ("keep_lines", "words"),
    [
        (1, "line 2: the file ends here; expected the heading 'VEHICLE'"),
        (4, "line 5: the file ends here; expected the vehicle count and capacity"),
        (8, "line 9: the file ends here; expected the depot's row"),
        (10, "line 11: the file ends here; expected customer rows after the depot's"),
    ],
)
def test_a_truncated_file_is_refused_naming_where_it_ends(tmp_path, keep_lines, words):
    """Each part of the layout is required; a missing one is named with the line it should
    have been on."""
    lines = solomon_text(small_rows()).splitlines()[:keep_lines]
    path = write(tmp_path, "\n".join(lines) + "\n")

    with pytest.raises(instances.InstanceError, match=words):
        instances.read(path)


@pytest.mark.parametrize("text", ["", "\n\n   \n"])
def test_an_empty_file_is_refused(tmp_path, text):
    """No content at all is refused as an empty file, not read as an empty instance."""
    path = write(tmp_path, text)

    with pytest.raises(instances.InstanceError, match="the file is empty"):
        instances.read(path)


def test_a_wrong_heading_is_refused(tmp_path):
    """A table whose column headings are not Solomon's is not guessed at."""
    text = solomon_text(small_rows()).replace("DUE DATE", "DEADLINE")
    path = write(tmp_path, text)

    with pytest.raises(instances.InstanceError, match="line 8: expected the column headings"):
        instances.read(path)


def test_a_binary_file_and_an_unknown_suffix_are_refused(tmp_path):
    """Not text, or not a format we know: refused with the file's name."""
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(instances.InstanceError, match="not a text file"):
        instances.read(binary)
    with pytest.raises(instances.InstanceError, match=r"unknown instance format '\.csv'"):
        instances.read(write(tmp_path, "a,b\n", "x.csv"))


# --- VRPLIB (.vrp) ---------------------------------------------------------------------

VRP = """NAME : tiny
TYPE : VRPTW
DIMENSION : 4
VEHICLES : 2
CAPACITY : 50
SERVICE_TIME : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 40.5 50.25
2 45 68
3 20.75 10
4 60 60
DEMAND_SECTION
1 0
2 10
3 20
4 15
TIME_WINDOW_SECTION
1 0 1000
2 0 300
3 100 600.5
4 50 900
DEPOT_SECTION
1
-1
EOF
"""


def test_vrplib_file_is_read_with_decimal_coordinates_and_tenths():
    """.vrp coordinates keep their decimals; DIMACS times are held in tenths, and the
    scalar SERVICE_TIME applies to customers only."""
    raw = readers.read_vrplib(VRP, "tiny.vrp")

    assert (raw.nodes[0].x, raw.nodes[0].y) == (40.5, 50.25)
    assert (raw.vehicles, raw.capacity) == (2, 50)
    assert [n.service for n in raw.nodes] == [0, 10, 10, 10]
    problem = instances.build_problem(raw)
    assert problem.stops[1].windows[0].late_s == 6005
    d = math.dist((40.5, 50.25), (45, 68))
    assert problem.distance_m[0, 1] == math.floor(d * 10)


BAD_VRP = [
    (
        "missing row",
        lambda t: t.replace("4 60 60\n", ""),
        "line 12, NODE_COORD_SECTION: has 3 rows",
    ),
    ("text in demand", lambda t: t.replace("3 20\n", "3 x\n"), "line 16, DEMAND_SECTION: 'x'"),
    ("due before ready", lambda t: t.replace("4 50 900", "4 950 900"), "line 22, TIME_WINDOW"),
    ("negative demand", lambda t: t.replace("2 10\n", "2 -10\n"), "line 15, DEMAND_SECTION: must"),
    ("node order", lambda t: t.replace("3 20.75 10", "5 20.75 10"), "line 11, NODE_COORD_SECTION"),
    ("missing column", lambda t: t.replace("2 0 300", "2 300"), "line 20, TIME_WINDOW_SECTION"),
    ("no depot section", lambda t: t.replace("DEPOT_SECTION\n1\n-1\n", ""), "no DEPOT_SECTION"),
    (
        "depot elsewhere",
        lambda t: t.replace("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n2\n"),
        "line 24, DEPOT",
    ),
    ("explicit weights", lambda t: t.replace("EUC_2D", "EXPLICIT"), "line 7, EDGE_WEIGHT_TYPE"),
    (
        "unknown section",
        lambda t: t.replace("DEPOT_SECTION", "PICKUP_SECTION"),
        "line 23: PICKUP_SECTION is not",
    ),
    ("zero vehicles", lambda t: t.replace("VEHICLES : 2", "VEHICLES : 0"), "line 4, VEHICLES"),
    ("no capacity", lambda t: t.replace("CAPACITY : 50\n", ""), "CAPACITY: is missing"),
    ("over capacity", lambda t: t.replace("4 15", "4 51"), "line 17, DEMAND_SECTION: 51 is more"),
    (
        "service twice",
        lambda t: t.replace(
            "DEPOT_SECTION", "SERVICE_TIME_SECTION\n1 0\n2 1\n3 1\n4 1\nDEPOT_SECTION"
        ),
        "line 6, SERVICE_TIME: given both",
    ),
]


@pytest.mark.parametrize(("edit", "words"), [c[1:] for c in BAD_VRP], ids=[c[0] for c in BAD_VRP])
def test_a_malformed_vrplib_file_is_refused_naming_its_line(edit, words):
    """The .vrp path gets the same scrutiny: counts, numbering, numbers, windows, depot."""
    with pytest.raises(instances.InstanceError) as refused:
        readers.read_vrplib(edit(VRP), "tiny.vrp")

    assert str(refused.value).startswith("tiny.vrp")
    assert words in str(refused.value)


def test_an_empty_or_truncated_vrplib_file_is_refused():
    """Empty, or cut off before the time windows: refused, never read as a smaller instance."""
    with pytest.raises(instances.InstanceError, match="the file is empty"):
        readers.read_vrplib("", "e.vrp")
    cut = VRP[: VRP.index("TIME_WINDOW_SECTION")]
    with pytest.raises(instances.InstanceError, match="no TIME_WINDOW_SECTION"):
        readers.read_vrplib(cut, "cut.vrp")
    cut = VRP[: VRP.index("3 100 600.5")]
    with pytest.raises(instances.InstanceError, match="line 21: the file has no DEPOT_SECTION"):
        readers.read_vrplib(cut, "cut.vrp")


# --- the independent re-check ----------------------------------------------------------


def test_recheck_finds_each_kind_of_violation(tmp_path):
    """Late, back late, over capacity, repeated, unknown, unvisited and too many routes are
    each found on the file's numbers."""
    rows = [
        [0, 0, 0, 0, 0, 100, 0],
        [1, 30, 0, 30, 0, 20, 0],  # 30 away, due at 20: always late
        [2, 0, 40, 40, 0, 100, 0],
        [3, 0, 45, 40, 0, 100, 0],
    ]
    inst = instances.read(write(tmp_path, solomon_text(rows, vehicles=2, capacity=60)))

    verdict = inst.recheck([[0], [1, 2, 1], [7]])

    kinds = sorted(v.kind for v in verdict.violations)
    assert kinds == sorted(
        [Kind.TOO_MANY_ROUTES, Kind.LATE, Kind.CAPACITY, Kind.DUPLICATE, Kind.UNKNOWN]
    )
    late = next(v for v in verdict.violations if v.kind is Kind.LATE)
    assert (late.route, late.customer, late.amount) == (1, 1, pytest.approx(10))
    assert verdict.not_visited == ()
    assert not verdict.feasible
    back = instances.read(write(tmp_path, solomon_text([*rows[:3], [3, 0, 60, 0, 0, 100, 0]])))
    assert [v.kind for v in back.recheck([[2]]).violations] == [Kind.BACK_LATE]
    assert back.recheck([[1]]).not_visited == (1, 3)


def test_recheck_rejects_a_plan_made_on_a_zero_matrix(tmp_path):
    """The misread that started this: on an all-zero matrix a plan looks perfect to the
    solver and to the model checker, and the re-check on the file's numbers rejects it."""
    rows = [
        [0, "50.50", "50.50", 0, 0, 1000, 0],
        [1, "50.50", "0.25", 10, 0, 60, 0],
        [2, "50.50", "99.75", 10, 0, 60, 0],
    ]
    inst = instances.read(write(tmp_path, solomon_text(rows, vehicles=1)))
    zeros = np.zeros_like(inst.problem.distance_m)
    blind = Problem(
        depots=inst.problem.depots,
        vehicles=inst.problem.vehicles,
        stops=inst.problem.stops,
        distance_m=zeros,
        duration_s={"default": zeros},
    )
    plan = solve(blind, SolveParameters(time_limit_s=0.2))
    routes = [list(r.stops) for r in plan.routes]

    assert sorted(s for r in routes for s in r) == [0, 1]
    assert feasibility.violations(blind, list(enumerate(routes))) == []
    verdict = inst.recheck(routes)
    assert [v.kind for v in verdict.violations] == [Kind.LATE]
    assert verdict.distance == pytest.approx(50.25 + 99.5 + 49.25, abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_every_plan_for_a_generated_instance_passes_the_recheck(tmp_path, seed):
    """Random decimal coordinates and times (fixed seeds), 25 customers each: the solver's
    plan serves everyone and passes both the model checker and the re-check on the file's
    own numbers."""
    inst = instances.read(write(tmp_path, random_solomon(seed, customers=25)))

    plan = solve(inst.problem, SolveParameters(time_limit_s=0.3, seed=seed))
    routes = [list(r.stops) for r in plan.routes]

    verdict = inst.recheck(routes)
    assert verdict.violations == ()
    assert verdict.not_visited == ()
    assert feasibility.violations(inst.problem, list(enumerate(routes))) == []
    assert verdict.distance == pytest.approx(inst.cost(routes))
    assert verdict.distance > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), customers=st.integers(1, 12), data=st.data())
def test_the_integer_model_never_accepts_what_the_file_rejects(
    tmp_path_factory, seed, customers, data
):
    """For any generated file and any routes, a route the integer model (scaled, travel
    times rounded up) accepts is accepted by the re-check on the file's exact numbers, and
    every value is read back exactly as written."""
    text = random_solomon(seed, customers=customers)
    path = tmp_path_factory.getbasetemp() / "generated.txt"
    path.write_text(text)
    inst = instances.read(path)
    for node, line in zip(inst.raw.nodes, text.splitlines()[FIRST_ROW_LINE - 1 :], strict=True):
        written = line.split()
        assert (node.x, node.y) == (float(written[1]), float(written[2]))
        assert (node.ready, node.due, node.service) == tuple(Decimal(v) for v in written[4:])
    order = data.draw(st.permutations(range(customers)))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(customers - 1, 1)), max_size=3)))
    routes = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, customers], strict=True)]
    routes = [r for r in routes if r]

    model = feasibility.check(inst.problem, list(enumerate(routes)))
    verdict = inst.recheck(routes)
    for k, timed in enumerate(model, start=1):
        if not timed.violations:
            assert not [v for v in verdict.violations if v.route == k]


def test_public_instances_still_read_as_before():
    """The shipped C101, R101 and C1_10_1 keep the numbers the benchmarks were run on."""
    c101 = instances.read(DATA / "C101.txt")
    assert c101.problem.stops[0].windows[0].early_s == 91200
    gh = instances.read(DATA / "C1_10_1.vrp")
    assert (len(gh.problem.stops), len(gh.problem.vehicles)) == (1000, 250)
    assert gh.problem.stops[0].service_s == 900

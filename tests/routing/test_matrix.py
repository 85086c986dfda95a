"""Geodesic travel matrices agree with geopy and scale by circuity and speed."""

from __future__ import annotations

import numpy as np
from geopy.distance import geodesic

from routing.matrix import GeodesicMatrix, GivenMatrix, geodesic_m


def test_agrees_with_geopy_within_half_a_percent():
    rng = np.random.default_rng(7)
    lat = np.concatenate([rng.uniform(-85, 85, 40), 55.75 + rng.uniform(-0.2, 0.2, 40)])
    lon = np.concatenate([rng.uniform(-180, 180, 40), 37.62 + rng.uniform(-0.3, 0.3, 40)])

    ours = geodesic_m(lat, lon)

    for i in range(len(lat)):
        for j in range(len(lat)):
            expected = geodesic((lat[i], lon[i]), (lat[j], lon[j])).meters
            if i == j:
                assert ours[i, j] == 0
            else:
                assert abs(ours[i, j] - expected) / expected < 0.005, (i, j)


def test_known_distance_moscow_kremlin_to_sheremetyevo():
    d = geodesic_m(np.array([55.7520, 55.9726]), np.array([37.6175, 37.4146]))
    expected = geodesic((55.7520, 37.6175), (55.9726, 37.4146)).meters
    assert abs(d[0, 1] - expected) < 5  # metres


def test_circuity_and_speed_profiles():
    points = [(55.75, 37.60), (55.76, 37.62)]
    straight = geodesic(points[0], points[1]).meters

    dist, dur = GeodesicMatrix(circuity=1.5, speeds_kmh={"bike": 15.0, "car": 30.0}).matrices(
        points, ["bike", "car"]
    )

    assert abs(dist[0, 1] - 1.5 * straight) <= 1
    assert dur["bike"][0, 1] == np.ceil(1.5 * straight / (15 / 3.6))
    assert dur["car"][0, 1] == np.ceil(1.5 * straight / (30 / 3.6))
    assert dur["bike"][0, 1] > dur["car"][0, 1]


def test_given_matrix_is_passed_through():
    m = np.array([[0, 5], [7, 0]], dtype=np.int64)

    dist, dur = GivenMatrix(m, {"car": m * 2}).matrices([(0, 0), (1, 1)], ["car"])

    assert dist.tolist() == [[0, 5], [7, 0]]
    assert dur["car"].tolist() == [[0, 10], [14, 0]]

"""The halo plan against a brute-force distance computation; sends and receives agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

from landia.analysis.letkf import localise
from landia.exchange.decomposition import Decomposition
from landia.exchange.halo import HaloPlan
from landia.grid import EARTH_RADIUS_KM, LatLonGrid, great_circle_km


def random_land_grid(lat, lon, fraction: float, seed: int) -> LatLonGrid:
    rng = np.random.default_rng(seed)
    land = rng.random((len(lat), len(lon))) < fraction
    return LatLonGrid(np.asarray(lat, float), np.asarray(lon, float), land)


def regional_grid(seed: int = 0) -> LatLonGrid:
    """A 1.4 deg box of East Asia, 12 x 14 cells, about 70 % land."""
    grid = LatLonGrid.from_box(23.0, 39.8, 73.0, 92.6, 1.4)
    return random_land_grid(grid.lat, grid.lon, 0.7, seed)


def global_grid(seed: int = 1) -> LatLonGrid:
    """A 10 deg global grid (18 x 36, longitudes -175 .. 175): wraps at the date line."""
    grid = LatLonGrid.from_box(-90.0, 90.0, -180.0, 180.0, 10.0)
    assert grid.is_global
    return random_land_grid(grid.lat, grid.lon, 0.5, seed)


def north_to_south_grid(seed: int = 2) -> LatLonGrid:
    """Latitudes decreasing (as many products store them), longitudes 0 .. 355 (global)."""
    return random_land_grid(np.arange(87.5, -90.0, -5.0), np.arange(0.0, 360.0, 5.0), 0.4,
                            seed)


GRIDS = {"regional": regional_grid, "global": global_grid, "north_to_south": north_to_south_grid}


def brute_force_distances(grid: LatLonGrid) -> np.ndarray:
    """Every pair of land cells, km, by the Vincenty (atan2) form: independent of the
    haversine of the module under test."""
    rows, cols = np.divmod(grid.land_index, grid.shape[1])
    phi, lam = np.deg2rad(grid.lat[rows]), np.deg2rad(grid.lon[cols])
    dlam = lam[None, :] - lam[:, None]
    a = np.cos(phi[None, :]) * np.sin(dlam)
    b = (np.cos(phi[:, None]) * np.sin(phi[None, :])
         - np.sin(phi[:, None]) * np.cos(phi[None, :]) * np.cos(dlam))
    c = np.sin(phi[:, None]) * np.sin(phi[None, :]) + np.cos(phi[:, None]) * np.cos(
        phi[None, :]) * np.cos(dlam)
    return EARTH_RADIUS_KM * np.arctan2(np.hypot(a, b), c)


def brute_force_halo(distances: np.ndarray, d: Decomposition, rank: int, radius: float):
    own = distances[d.block(rank)]
    if own.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.any(own <= radius, axis=0))


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("radius", [0.0, 333.3, 1234.5, 4321.0, 15555.5])
def test_plan_matches_brute_force(name, size, radius):
    grid = GRIDS[name]()
    d = Decomposition.for_grid(grid, size)
    distances = brute_force_distances(grid)
    # No two cells sit at the radius itself, so the two distance formulas cannot disagree.
    apart = ~np.eye(grid.n_land, dtype=bool)
    assert np.min(np.abs(distances[apart] - radius)) > 1e-6
    plan = HaloPlan.build(grid, d, radius)
    for rank in range(size):
        cells = plan.halo_cells(rank)
        assert cells.dtype == np.int64
        np.testing.assert_array_equal(cells, brute_force_halo(distances, d, rank, radius))
        assert np.all(np.isin(np.arange(d.block(rank).start, d.block(rank).stop), cells))


def test_halo_wraps_around_the_date_line():
    grid = LatLonGrid.from_box(-90.0, 90.0, -180.0, 180.0, 10.0)
    land = np.zeros(grid.shape, dtype=bool)
    land[9, [0, -1]] = True                 # 5 N at 175 W and 175 E: 10 deg apart
    grid = LatLonGrid(grid.lat, grid.lon, land)
    apart = float(great_circle_km(5.0, -175.0, 5.0, 175.0))
    assert 1100 < apart < 1110
    d = Decomposition.for_grid(grid, 2)
    near = HaloPlan.build(grid, d, apart + 1.0)
    assert [near.halo_cells(r).tolist() for r in range(2)] == [[0, 1], [0, 1]]
    assert near.sends(0) == {1: [0]} and near.receives(0) == {1: [1]}
    far = HaloPlan.build(grid, d, apart - 1.0)
    assert [far.halo_cells(r).tolist() for r in range(2)] == [[0], [1]]
    assert far.sends(0) == {} and far.receives(1) == {}


def test_a_cell_at_the_radius_is_in_the_halo():
    # Equator cells 1 deg apart: the cell at exactly R is in, as d <= R says.
    grid = LatLonGrid(np.array([0.0]), np.arange(0.0, 10.0), np.ones((1, 10), dtype=bool))
    d = Decomposition.for_grid(grid, 10)
    step = float(great_circle_km(0.0, 0.0, 0.0, 1.0))
    assert HaloPlan.build(grid, d, 2 * step).halo_cells(4).tolist() == [2, 3, 4, 5, 6]
    assert HaloPlan.build(grid, d, 2 * step * (1 - 1e-12)).halo_cells(4).tolist() == [3, 4, 5]


@pytest.mark.parametrize("radius", [math.inf, math.pi * EARTH_RADIUS_KM, 1e9])
def test_an_unbounded_radius_gives_every_land_cell(radius):
    grid = regional_grid(seed=3)
    d = Decomposition.for_grid(grid, 4)
    plan = HaloPlan.build(grid, d, radius)
    for rank in range(4):
        np.testing.assert_array_equal(plan.halo_cells(rank), np.arange(grid.n_land))


@pytest.mark.parametrize("radius", [0.0, 500.0, math.inf])
def test_ranks_without_cells_have_an_empty_halo_and_exchange_nothing(radius):
    grid = LatLonGrid(np.array([10.0, 11.0]), np.array([100.0, 101.0]),
                      np.array([[True, False], [False, True]]))
    d = Decomposition.for_grid(grid, 5)               # ranks 2, 3, 4 own no cell
    plan = HaloPlan.build(grid, d, radius)
    for rank in (2, 3, 4):
        assert plan.halo_cells(rank).size == 0
        assert plan.sends(rank) == {} and plan.receives(rank) == {}
        send_rows, send_counts, recv_counts = plan.routes(rank)
        assert send_rows.size == 0 and not send_counts.any() and not recv_counts.any()
    together = radius > 120                           # the two cells are ~ 150 km apart
    assert plan.halo_cells(0).tolist() == ([0, 1] if together else [0])
    assert plan.receives(1) == ({0: [0]} if together else {})


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_sends_and_receives_agree_and_cover_the_halo(name, size):
    grid = GRIDS[name]()
    d = Decomposition.for_grid(grid, size)
    plan = HaloPlan.build(grid, d, 1500.0)
    for rank in range(size):
        own = d.block(rank)
        halo = plan.halo_cells(rank)
        received = plan.receives(rank)
        assert rank not in received and rank not in plan.sends(rank)
        for src, cells in received.items():
            assert cells.size and np.all(d.owner(cells) == src)
            np.testing.assert_array_equal(plan.sends(src)[rank], cells)
        for dest, cells in plan.sends(rank).items():
            assert np.all((cells >= own.start) & (cells < own.stop))
            np.testing.assert_array_equal(plan.receives(dest)[rank], cells)
        pieces = [*received.values(), halo[(halo >= own.start) & (halo < own.stop)]]
        np.testing.assert_array_equal(np.sort(np.concatenate(pieces)), halo)
        send_rows, send_counts, recv_counts = plan.routes(rank)
        assert send_counts.sum() == send_rows.size and recv_counts.sum() == halo.size
        assert np.all((send_rows >= 0) & (send_rows < d.count(rank)))
        for dest in range(size):
            assert recv_counts[dest] == (received[dest].size if dest in received
                                         else np.count_nonzero((halo >= own.start)
                                                               & (halo < own.stop))
                                         if dest == rank else 0)


def test_routes_are_a_serial_exchange():
    """Moving the rows that routes() names reproduces each halo's rows of the global array."""
    grid = global_grid(seed=4)
    size = 4
    d = Decomposition.for_grid(grid, size)
    plan = HaloPlan.build(grid, d, 2500.0)
    values = np.random.default_rng(4).standard_normal((grid.n_land, 3))
    outgoing = {}
    for src in range(size):
        rows, counts, _ = plan.routes(src)
        parts = np.split(d.local(values, src)[rows], np.cumsum(counts)[:-1])
        outgoing.update({(src, dest): part for dest, part in enumerate(parts)})
    for rank in range(size):
        received = np.concatenate([outgoing[(src, rank)] for src in range(size)])
        np.testing.assert_array_equal(received, values[plan.halo_cells(rank)])
        assert [outgoing[(src, rank)].shape[0] for src in range(size)] == list(
            plan.routes(rank)[2])


def test_halo_cells_are_read_only_and_the_plan_is_the_same_when_rebuilt():
    grid = regional_grid()
    d = Decomposition.for_grid(grid, 3)
    a, b = HaloPlan.build(grid, d, 800.0), HaloPlan.build(grid, d, 800.0)
    with pytest.raises(ValueError):
        a.halo_cells(0)[0] = 1
    for rank in range(3):
        np.testing.assert_array_equal(a.halo_cells(rank), b.halo_cells(rank))


def test_bad_arguments_are_named():
    grid = regional_grid()
    with pytest.raises(ValueError, match="land cells"):
        HaloPlan.build(grid, Decomposition(grid.n_land + 1, 2), 100.0)
    d = Decomposition.for_grid(grid, 2)
    for radius in (-1.0, math.nan, True, "80"):
        with pytest.raises(ValueError, match="radius_km"):
            HaloPlan.build(grid, d, radius)
    plan = HaloPlan.build(grid, d, 100.0)
    with pytest.raises(ValueError, match="rank"):
        plan.halo_cells(2)
    with pytest.raises(ValueError, match="rank"):
        plan.sends(-1)


@pytest.mark.parametrize("radius", [50.0, 2222.2])
@pytest.mark.parametrize("size", [2, 4])
def test_cells_centred_on_the_poles(radius, size):
    # Centres at +-90 deg: every longitude there is one point, and all of them are neighbours.
    grid = random_land_grid(np.arange(-90.0, 90.1, 15.0), np.arange(-180.0, 180.0, 30.0), 0.6,
                            seed=5)
    d = Decomposition.for_grid(grid, size)
    distances = brute_force_distances(grid)
    plan = HaloPlan.build(grid, d, radius)
    for rank in range(size):
        np.testing.assert_array_equal(plan.halo_cells(rank),
                                      brute_force_halo(distances, d, rank, radius))
    north = np.flatnonzero(grid.land[-1])
    if north.size and radius == 50.0:
        last = grid.n_land - 1                        # a north-pole cell: the last in the order
        owner = int(d.owner(last))
        assert np.all(np.isin(np.arange(grid.n_land - north.size, grid.n_land),
                              plan.halo_cells(owner)))


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("half_width", ["tie", 150.0, 700.0])
def test_the_halo_holds_every_observation_the_letkf_localisation_weighs(name, size, half_width):
    """A plan of radius 2c holds every cell that ``localise`` (length c) gives a weight > 0
    when targets are the rank's cells and observations every land cell: the rank's LETKF
    sees the same observations as a serial one."""
    grid = GRIDS[name]()
    rows, cols = np.divmod(grid.land_index, grid.shape[1])
    lat, lon = grid.lat[rows], grid.lon[cols]
    if half_width == "tie":                           # 2c is exactly the distance of a pair
        half_width = float(great_circle_km(lat[0], lon[0], lat[1], lon[1])) / 2
    d = Decomposition.for_grid(grid, size)
    plan = HaloPlan.build(grid, d, 2 * half_width)
    for rank in range(size):
        own = d.block(rank)
        weighed = localise(lat[own], lon[own], lat, lon, half_width).indices
        assert np.all(np.isin(weighed, plan.halo_cells(rank)))

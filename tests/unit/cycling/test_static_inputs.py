"""Static inputs from files ([landscape] file) and cycle.initial_state: a run with the file
written from the synthetic landscape is bit-identical to one without; bad files are refused
with the file and the variable named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.columns.soil import SoilParameters  # noqa: E402
from landia.config import Settings, settings_from_dict  # noqa: E402
from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from landia.cycling.static_inputs import load_landscape, read_initial_moisture  # noqa: E402
from landia.errors import InputError  # noqa: E402
from landia.grid import colm_node_depths  # noqa: E402
from landia.io.fields import SoilMoistureField, read_field, write_field  # noqa: E402
from landia.io.static_file import StaticFields, read_static_file, write_static_file  # noqa: E402
from landia.landmask import grid_from_settings  # noqa: E402
from landia.landscape import build_landscape  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-01T12:00", "mode": "ctrl"}


def settings(landscape: str = "", **cycle) -> Settings:
    return settings_from_dict({"grid": GRID, "cycle": {**PERIOD, **cycle},
                               "landscape": {"file": landscape}})


@pytest.fixture(scope="module")
def grid():
    return grid_from_settings(settings().grid)[0]


@pytest.fixture(scope="module")
def static_file(tmp_path_factory) -> Path:
    """The synthetic landscape written by ``landia landscape`` (a real process)."""
    folder = tmp_path_factory.mktemp("static")
    cfg = folder / "c.toml"
    cfg.write_text("[grid]\n" + "".join(f"{k} = {v}\n" for k, v in GRID.items()))
    out = folder / "landscape.nc"
    done = subprocess.run([sys.executable, "-m", "landia", "landscape", "--config", str(cfg),
                           "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def states(run: Path) -> dict:
    return {p.name: read_field(p).values for p in sorted((run / "states").glob("*.nc"))}


def test_defaults_keep_the_config_hash():
    # Computed on main before [landscape] and cycle.initial_state existed, with the
    # paper's curvelet.sigma = 0.5 and one fixed image-error variance: new keys at their
    # defaults leave it as it was.
    fixed = Settings().replace("analysis", image_error_method="fixed")
    assert config_hash(fixed.replace("curvelet", sigma=0.5).replace(
        "analysis", local_image_error=False)) == (
        "sha256:a2a1119876db6b3c49ee52cdf036ab31ad4a9ed793ce69e69faed6d7ac69e1e0")
    # The default sigma became 1 on 2026-12-03 (docs/analysis.md): a run that relied on the
    # old default changes its analysis, so its checkpoints are refused, as they must be.
    assert config_hash(fixed.replace("analysis", local_image_error=False)) == (
        "sha256:34c2615244447d0b87faac0699c36114f12f0fff3830456b04ca25cccb1320ca")
    # analysis.local_image_error became 'auto' (on with JI) later that day: likewise.
    assert config_hash(fixed) == (
        "sha256:069d8d5387cce39dfa1d60491fa95f60b8dd84431838fcd9c899163fc7d07eb1")
    # analysis.image_error_method became 'desroziers' (floor 'variance') the evening after:
    # a cycle with JI changes from its second analysis, so its hash changes too.
    assert config_hash(Settings()) != config_hash(fixed)
    assert config_hash(settings("x.nc")) != config_hash(settings())
    assert config_hash(settings(initial_state="s.nc")) != config_hash(settings())


def test_file_round_trips_the_synthetic_landscape(static_file, grid):
    built = build_landscape(grid, 11)
    read = load_landscape(settings(str(static_file)), grid, static_file.parent)
    for name in ("sand", "clay", "lai_monthly", "elevation"):
        assert np.array_equal(getattr(read, name), getattr(built, name)), name
    assert read.land_cover == built.land_cover


def test_cycle_with_the_written_file_is_bit_identical(static_file, tmp_path):
    run_cycles(MPI.COMM_SELF, settings(), tmp_path / "synthetic", progress=False)
    run_cycles(MPI.COMM_SELF, settings(str(static_file)), tmp_path / "file", progress=False)
    a, b = states(tmp_path / "synthetic"), states(tmp_path / "file")
    assert len(a) == 2 and a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


def test_per_layer_texture_is_read(grid, tmp_path):
    built = build_landscape(grid, 11)
    sand = np.repeat(built.sand[:, None], 10, axis=1)
    sand[:, 5:] *= 0.5
    clay = np.repeat(built.clay[:, None], 10, axis=1)
    path = tmp_path / "layers.nc"
    write_static_file(path, grid, StaticFields(sand, clay, built.land_cover,
                                               built.lai_monthly, None))
    read = read_static_file(path, grid)
    assert read.sand.shape == (grid.n_land, 10) and np.array_equal(read.sand, sand)
    assert read.elevation is None


def _edited(source: Path, tmp_path: Path, edit) -> Path:
    target = tmp_path / "bad.nc"
    target.write_bytes(source.read_bytes())
    with netCDF4.Dataset(target, "a") as ds:
        edit(ds)
    return target


def _land_cell(ds):
    cover = ds["land_cover"][:]
    return tuple(int(i[0]) for i in np.nonzero(~np.ma.getmaskarray(cover)))


@pytest.mark.parametrize("edit, words", [
    (lambda ds: ds["sand"].setncattr("units", "kg kg-1"), ["'sand'", "units"]),
    (lambda ds: ds["clay"].__setitem__(_land_cell(ds), 80.0), ["'sand' + 'clay'"]),
    (lambda ds: ds["sand"].__setitem__(_land_cell(ds), np.nan), ["'sand'", "missing", "1 land"]),
    (lambda ds: ds["lai"].__setitem__((3,) + _land_cell(ds), -1.0), ["'lai'", "[0, 15]"]),
    (lambda ds: ds["land_cover"].__setitem__(_land_cell(ds), 9), ["'land_cover'", "codes"]),
    (lambda ds: ds["land_cover"].setncattr("flag_meanings", "a b c d e f"),
     ["'land_cover'", "not known"]),
    (lambda ds: ds.renameVariable("lai", "leaf"), ["'lai' not found"]),
])
def test_bad_static_files_are_refused(static_file, grid, tmp_path, edit, words):
    bad = _edited(static_file, tmp_path, edit)
    with pytest.raises(InputError) as info:
        read_static_file(bad, grid)
    assert str(bad) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_another_grid_is_refused(static_file, tmp_path):
    other = grid_from_settings(settings_from_dict({"grid": {**GRID, "east": 125.4}}).grid)[0]
    with pytest.raises(InputError, match="is not the model grid"):
        read_static_file(static_file, other)


def test_bad_static_file_stops_the_cycle(tmp_path):
    (tmp_path / "static.nc").write_text("not netCDF")
    with pytest.raises(InputError, match="static.nc"):
        run_cycles(MPI.COMM_SELF, settings("static.nc"), tmp_path / "run", progress=False)


def _state_file(path: Path, grid, theta: np.ndarray) -> Path:
    write_field(path, SoilMoistureField(lat=grid.lat, lon=grid.lon, depth=colm_node_depths(),
                                        values=grid.to_field(theta.T),
                                        valid_time=np.datetime64("2016-05-01T00:00")))
    return path


def test_initial_state_at_the_default_moisture_is_bit_identical(grid, tmp_path):
    porosity = SoilParameters.from_sand_clay(*(lambda s: (s.sand, s.clay))(
        build_landscape(grid, 11))).porosity
    _state_file(tmp_path / "init.nc", grid, 0.5 * porosity)
    run_cycles(MPI.COMM_SELF, settings(), tmp_path / "default", progress=False)
    run_cycles(MPI.COMM_SELF, settings(initial_state=str(tmp_path / "init.nc")),
               tmp_path / "from_file", progress=False)
    a, b = states(tmp_path / "default"), states(tmp_path / "from_file")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_initial_state_from_a_run_is_used(grid, tmp_path):
    run_cycles(MPI.COMM_SELF, settings(initial_saturation=0.9), tmp_path / "spinup",
               progress=False)
    last = sorted((tmp_path / "spinup" / "states").glob("*.nc"))[-1]
    run_cycles(MPI.COMM_SELF, settings(initial_state=str(last)), tmp_path / "warm",
               progress=False)
    run_cycles(MPI.COMM_SELF, settings(), tmp_path / "cold", progress=False)
    warm, cold = states(tmp_path / "warm"), states(tmp_path / "cold")
    first = sorted(warm)[0]
    assert np.nanmean(warm[first]) > np.nanmean(cold[first]) + 0.05


def test_bad_initial_states_are_refused(grid, tmp_path):
    porosity = SoilParameters.from_sand_clay(*(lambda s: (s.sand, s.clay))(
        build_landscape(grid, 11))).porosity
    too_wet = _state_file(tmp_path / "wet.nc", grid, porosity + 0.01)
    with pytest.raises(InputError, match="wet.nc.*'soil_moisture'.*porosity"):
        read_initial_moisture(too_wet, grid, porosity)
    hole = 0.3 * porosity
    hole[4, 2] = np.nan
    with pytest.raises(InputError, match="missing .* at 1 land"):
        read_initial_moisture(_state_file(tmp_path / "hole.nc", grid, hole), grid, porosity)
    top = tmp_path / "top.nc"
    write_field(top, SoilMoistureField(lat=grid.lat, lon=grid.lon, depth=colm_node_depths()[:3],
                                       values=grid.to_field((0.3 * porosity[:, :3]).T)))
    with pytest.raises(InputError, match="3 layers"):
        read_initial_moisture(top, grid, porosity)
    with pytest.raises(InputError, match="wet.nc"):
        run_cycles(MPI.COMM_SELF, settings(initial_state=str(too_wet)), tmp_path / "run",
                   progress=False)


def test_sigma_changes_the_hash_only_where_the_image_term_acts():
    """curvelet.sigma acts through JI only: point DA, CTRL and the LETKF keep the hash they had
    with the paper's 0.5 whatever sigma holds, so the new default orphans no run of theirs."""
    def h(sigma, **sections):
        s = Settings().replace("curvelet", sigma=sigma)
        for section, keys in sections.items():
            s = s.replace(section, **keys)
        return config_hash(s)

    point = {"analysis": {"terms": ["background", "point"]}}
    ctrl = {"cycle": {"mode": "ctrl"}}
    letkf = {"perturbation": {"enabled": True},
             "ensemble": {"enabled": True, "analysis": "letkf"}}
    for idle in (point, ctrl, letkf):
        assert h(1.0, **idle) == h(0.5, **idle) == h(0.3, **idle)
    hybrid = {"perturbation": {"enabled": True},
              "ensemble": {"enabled": True, "analysis": "hybrid"}}
    for acting in ({}, hybrid, {"analysis": {"terms": ["background", "point", "image"]}}):
        assert h(1.0, **acting) != h(0.5, **acting)


def test_the_image_error_estimate_changes_the_hash_only_where_the_image_term_acts():
    """The image-error variances' method, bands, memory, floor and cap act through JI's own
    statistics: set for every run of an experiment (the demo's Desroziers estimate), they
    leave point DA, CTRL and the LETKF with the hash of the defaults."""
    estimate = {"image_error_method": "desroziers", "image_error_bands": "wedge",
                "image_error_memory": 0.8, "image_error_floor": 2e-3, "image_error_cap": 0.05}

    def h(analysis, **sections):
        s = Settings().replace("analysis", **analysis)
        for section, keys in sections.items():
            s = s.replace(section, **keys)
        return config_hash(s)

    point = {"terms": ["background", "point"]}
    assert h({**point, **estimate}) == h(point)
    assert h(estimate, cycle={"mode": "ctrl"}) == h({}, cycle={"mode": "ctrl"})
    letkf = {"perturbation": {"enabled": True},
             "ensemble": {"enabled": True, "analysis": "letkf"}}
    assert h(estimate, **letkf) == h({}, **letkf)
    hybrid = {"perturbation": {"enabled": True},
              "ensemble": {"enabled": True, "analysis": "hybrid"}}
    for acting, sections in (({}, {}), ({"terms": ["background", "point", "image"]}, {}),
                             ({}, hybrid)):
        assert h({**acting, **estimate}, **sections) != h(acting, **sections)


def test_the_floor_variance_hashes_as_the_number_it_stands_for_where_it_can_act():
    """image_error_floor = 'variance' (the default since 2026-12-03): a run that gave the floor
    as the number keeps its hash (the demo's runs did, before the default); with the fixed
    method, where no estimate reaches the floor, it hashes as the earlier default (4e-4)."""
    def h(**analysis):
        return config_hash(Settings().replace("analysis", image_error_variance=2e-3,
                                              **analysis))

    assert h(image_error_floor="variance") == h(image_error_floor=2e-3) != h(
        image_error_floor=4e-4)
    fixed = {"image_error_method": "fixed"}
    assert h(image_error_floor="variance", **fixed) == h(image_error_floor=4e-4, **fixed)
    # the ensemble hybrid's variances from the members are clipped at the floor too
    members = {"perturbation": {"enabled": True},
               "ensemble": {"enabled": True, "analysis": "hybrid",
                            "image_error_from_members": True}}
    s = Settings().replace("analysis", image_error_variance=2e-3, **fixed)
    for section, keys in members.items():
        s = s.replace(section, **keys)
    assert config_hash(s) != config_hash(s.replace("analysis", image_error_floor=4e-4))
    assert config_hash(s) == config_hash(s.replace("analysis", image_error_floor=2e-3))


def test_auto_local_image_error_hashes_as_what_it_resolves_to():
    """analysis.local_image_error = 'auto' (the default since 2026-12-03) is on where JI takes
    part: such a run has the hash of an explicit true; where it stays off (point DA, CTRL, the
    LETKF, the whole-image term) the hash of false, so those runs keep their checkpoints."""
    def h(value, **sections):
        s = Settings().replace("analysis", local_image_error=value)
        for section, keys in sections.items():
            s = s.replace(section, **keys)
        return s, config_hash(s)

    point = {"analysis": {"terms": ["background", "point"]}}
    ctrl = {"cycle": {"mode": "ctrl"}}
    letkf = {"perturbation": {"enabled": True},
             "ensemble": {"enabled": True, "analysis": "letkf"}}
    gaps = {"analysis": {"image_gap_weight": 0.3}}
    for off in (point, ctrl, letkf, gaps):
        settings, auto = h("auto", **off)
        assert not settings.local_image_error_on
        assert auto == h(False, **off)[1]
    hybrid = {"perturbation": {"enabled": True},
              "ensemble": {"enabled": True, "analysis": "hybrid"}}
    for on in ({}, hybrid, {"analysis": {"terms": ["background", "point", "image"]}}):
        settings, auto = h("auto", **on)
        assert settings.local_image_error_on
        assert auto == h(True, **on)[1] != h(False, **on)[1]
    # an explicit true with point DA alone is on (the estimate without JI)
    assert h(True, **point)[0].local_image_error_on


def test_hybrid_split_changes_the_hash_only_where_it_acts():
    """analysis.hybrid_split (default true since 2026-12-03) halves JO and JI only in a hybrid
    whose JI takes part: every other run keeps the hash it had with the earlier default."""
    def h(value, **analysis):
        s = Settings().replace("analysis", hybrid_split=value, **analysis)
        return config_hash(s)

    for terms in (["background", "image"], ["background", "point"]):
        assert h(True, terms=terms) == h(False, terms=terms)
    hybrid = ["background", "point", "image"]
    assert h(True, terms=hybrid) != h(False, terms=hybrid)
    assert config_hash(Settings().replace("analysis", terms=hybrid)) == h(True, terms=hybrid)


def test_update_layers_changes_the_hash_only_beyond_the_analysed_layers():
    """ensemble.update_layers at 0 or at analysis.layers is the earlier LETKF (the analysed
    layers only): the hash of a run without the key; more layers change the analysis and
    the hash."""
    on = {"perturbation": {"enabled": True}, "analysis": {"layers": 3}}

    def h(**ensemble):
        return config_hash(settings_from_dict({**on, "ensemble": {"enabled": True,
                                                                  **ensemble}}))

    assert h() == h(update_layers=0) == h(update_layers=3)
    assert h(update_layers=5) not in (h(), h(update_layers=10))

"""The static inputs and the cold-start state of a cycle: synthetic or from files.

* :func:`model_grid` -- the ``[grid]`` box, or with ``grid.from_landscape`` the grid of
  ``[landscape] file`` (the EASE-Grid 2.0 lattice, docs/ease-grid.md).
* :func:`load_landscape` -- ``[landscape] file`` empty: the synthetic landscape of
  :func:`landia.landscape.build_landscape` (the OSSE default, seeded by
  ``cycle.texture_seed``); otherwise the static-input file
  (:mod:`landia.io.static_file`) as the same :class:`~landia.landscape.Landscape`.
* :func:`cold_start_state` -- ``cycle.initial_state`` empty: the model's default state
  (``cycle.initial_saturation``); otherwise a landia state file on the model grid (the
  ``states/state_*.nc`` of a run, e.g. the last one of a spin-up) whose volumetric soil
  moisture of every layer becomes the liquid water of the columns (no ice; soil temperature,
  snow, pond and aquifer as in the default state).

Relative paths are taken from the run directory, like ``cycle.observations``.
See ``docs/cycling.md``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from landia.columns.model import ModelState
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import RHO_WATER
from landia.config import Settings
from landia.errors import ConfigError, InputError
from landia.exchange.collectives import scatter_from_root
from landia.exchange.decomposition import Decomposition
from landia.exchange.guards import on_root
from landia.forcing.weather import elevation
from landia.grid import N_SOIL_LAYERS, LatLonGrid, colm_layer_thickness
from landia.io.cell_static import grid_of_static_file
from landia.io.fields import read_field
from landia.io.static_file import read_static_file
from landia.landmask import grid_from_settings
from landia.landscape import Landscape, build_landscape

#: Slack on the porosity bound of an initial state (a state file stores float64 theta).
POROSITY_SLACK = 1e-9


def resolve(path: str, run_dir) -> Path:
    """``path`` itself when absolute, else relative to the run directory."""
    p = Path(path)
    return p if p.is_absolute() else Path(run_dir) / p


def model_grid(settings: Settings, run_dir) -> LatLonGrid:
    """The run's model grid: the ``[grid]`` box with its real land mask, or with
    ``grid.from_landscape`` the grid of ``[landscape] file`` (any rectilinear lattice; land
    where its ``land_cover`` is set)."""
    if not settings.grid.from_landscape:
        return grid_from_settings(settings.grid)[0]
    if not settings.landscape.file:
        raise ConfigError("grid.from_landscape = true needs a static-input file in "
                          "landscape.file (e.g. one `landia landscape --from-cells` writes)")
    return grid_of_static_file(resolve(settings.landscape.file, run_dir))


def load_landscape(settings: Settings, grid: LatLonGrid, run_dir) -> Landscape:
    """The run's landscape: synthetic, or read from ``[landscape] file`` (checked)."""
    if not settings.landscape.file:
        return build_landscape(grid, settings.cycle.texture_seed)
    path = resolve(settings.landscape.file, run_dir)
    fields = read_static_file(path, grid)
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    z = (fields.elevation if fields.elevation is not None
         else elevation(lat2[grid.land], lon2[grid.land]))
    try:  # the pedotransfer function's own bounds (porosity, conductivity)
        SoilParameters.from_sand_clay(fields.sand, fields.clay)
    except ValueError as exc:
        raise InputError(f"{path}: variables 'sand', 'clay': {exc}") from None
    return Landscape(sand=fields.sand, clay=fields.clay, land_cover=fields.land_cover,
                     lai_monthly=fields.lai_monthly, elevation=z)


def read_initial_moisture(path, grid: LatLonGrid, porosity: np.ndarray) -> np.ndarray:
    """Volumetric soil moisture (N, 10) of the land cells from a landia state file.

    Raises
    ------
    InputError
        Another grid, not 10 layers, a land cell without a finite value, or a value outside
        [0, porosity] (the porosity of the run's soil, ``porosity`` (N, 10)).
    """
    field = read_field(path, "state", grid=grid.shape)
    if (field.lat.shape + field.lon.shape != grid.shape
            or not np.allclose(field.lat, grid.lat, atol=1e-5)
            or not np.allclose(field.lon, grid.lon, atol=1e-5)):
        raise InputError(f"{path}: variable 'soil_moisture' is not on the model grid (lat "
                         f"{grid.lat[0]:g}..{grid.lat[-1]:g}, lon {grid.lon[0]:g}.."
                         f"{grid.lon[-1]:g})")
    if field.values.shape[0] != N_SOIL_LAYERS:
        raise InputError(f"{path}: variable 'soil_moisture' has {field.values.shape[0]} "
                         f"layers; an initial state needs all {N_SOIL_LAYERS}")
    theta = grid.to_land(field.values).T  # (N, layers)
    if not np.all(np.isfinite(theta)):
        bad = int(np.sum(~np.all(np.isfinite(theta), axis=1)))
        raise InputError(f"{path}: variable 'soil_moisture' is missing (or not finite) at "
                         f"{bad} land cells of the model grid")
    excess = theta - porosity
    if np.min(theta, initial=0.0) < 0.0 or np.max(excess, initial=0.0) > POROSITY_SLACK:
        raise InputError(f"{path}: variable 'soil_moisture' has values in "
                         f"[{np.min(theta):g}, {np.max(theta):g}] m3 m-3, up to "
                         f"{max(np.max(excess), 0.0):g} above the porosity of the run's soil; "
                         f"expected [0, porosity] (a state of another landscape?)")
    return np.minimum(theta, porosity)


def initial_moisture(comm, decomposition: Decomposition, settings: Settings,
                     grid: LatLonGrid, porosity: np.ndarray, run_dir) -> np.ndarray | None:
    """This rank's rows of the ``cycle.initial_state`` moisture (None without one): the root
    reads and checks the file (:func:`read_initial_moisture`; a bad one raises on every rank)
    and scatters it. Collective."""
    if not settings.cycle.initial_state:
        return None
    path = resolve(settings.cycle.initial_state, run_dir)
    theta = on_root(comm, lambda: read_initial_moisture(path, grid, porosity))
    return scatter_from_root(comm, decomposition, theta, trailing_shape=(N_SOIL_LAYERS,))


def cold_start_state(settings: Settings, soil: SoilParameters, theta: np.ndarray | None):
    """The cold-start state of columns with ``soil``: the default one, or liquid water
    ``theta`` (N, 10) m3 m-3 (:func:`read_initial_moisture`) in an otherwise default state."""
    state = ModelState.default(soil, saturation=settings.cycle.initial_saturation)
    if theta is None:
        return state
    w_liq = theta * RHO_WATER * colm_layer_thickness(soil.n_layers)
    return dataclasses.replace(state, columns=dataclasses.replace(state.columns, w_liq=w_liq))

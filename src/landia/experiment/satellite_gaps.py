"""Where a satellite sees the land on a given day: SMAP's real daily valid masks, mapped onto
a model grid, for the demo's observations.

SMAP L3 radiometer soil moisture of the 6 AM descending overpass
(``../shared/data/conus_nldas_smap/smap_l3_am_2015-2017.nc``; O'Neill et al. 2021) is valid on
about 42 % of the land cell-days of its 412 cells: the swaths leave diamond-shaped gaps that
move from day to day (a 2-3 day revisit at mid-latitudes), dense vegetation, frozen soil and
open water remove retrievals, and a few days have no data at all. The cells are the land points
of an 18 x 38 lattice (EASE-Grid 2.0, 36 km subsampled by 4: rows 1.25-1.71 deg apart, columns
1.494 deg apart) over 25.5-49.9 N, 123.4-68.2 W.

**Mapping a model cell to a lattice cell.** The model box is laid over the lattice with its
south-west corner at an offset (seeded) inside the lattice's box:

* longitude one to one (a swath keeps its width in degrees) while the model box is at most as
  wide as the lattice (55.2 deg), else stretched to the lattice's width;
* latitude one to one while the model box fits (24.4 deg), else compressed to the lattice's
  height (the paper's 45 deg box: by a factor of 1.84, which makes the swaths steeper);
* the model cell takes the mask of the lattice cell nearest to its position; where that is not
  one of the 412 land cells, of the nearest land cell (in lattice rows and columns).

**Mapping a model day to a SMAP day.** Day ``d`` of the model takes SMAP's day
``d + offset``, one offset for the whole run so that the day-to-day sequence of swaths stays
SMAP's. The offset keeps the season: it is a whole number of years (chosen among those that
keep the run inside SMAP's two years) plus a shift of at most 10 days, both from the seed. A
run longer than the record wraps around it.

Everything here is deterministic for a seed; reading the file is the only I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import distance_transform_edt

from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.io.netcdf import decode_times, open_netcdf

#: The SMAP file under the shared data folder.
SMAP_FILE = Path("conus_nldas_smap", "smap_l3_am_2015-2017.nc")
#: Largest seeded shift of the day, days.
MAX_DAY_SHIFT = 10


@dataclass(frozen=True)
class SatelliteMasks:
    """A product's daily valid masks on its own lattice.

    Attributes
    ----------
    days : ndarray (D,) of datetime64[D]
        Consecutive days the product covers.
    valid : ndarray of bool (D, ny, nx)
        Valid retrieval of a lattice cell on a day (False off land).
    lat : ndarray (ny,)
        Lattice row latitudes, south to north, degrees_north.
    lon : ndarray (nx,)
        Lattice column longitudes, west to east, degrees_east.
    land : ndarray of bool (ny, nx)
        Lattice cells that are product cells.
    source : str
    """

    days: np.ndarray
    valid: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray
    source: str

    @property
    def valid_fraction(self) -> float:
        """Share of the land cell-days with a valid retrieval."""
        return float(self.valid[:, self.land].mean())


def read_smap_masks(path) -> SatelliteMasks:
    """The daily valid masks of the SMAP file (its days with data: up to 2017-03-31).

    Raises
    ------
    InputError
        The file lacks ``lat``, ``lon``, ``time`` or ``soil_moisture(time, cell)``, or its
        cells are not on a lattice.
    """
    path = Path(path)
    with open_netcdf(path, "SMAP soil-moisture file") as ds:
        for name in ("lat", "lon", "time", "soil_moisture"):
            if name not in ds.variables:
                raise InputError(f"{path}: no variable {name!r}; expected the SMAP L3 file of "
                                 f"../shared/data/{SMAP_FILE}")
        lat = np.round(np.asarray(ds["lat"][:], dtype=float), 3)
        lon = np.round(np.asarray(ds["lon"][:], dtype=float), 3)
        tv = ds["time"]
        days = decode_times(tv[:], getattr(tv, "units", None), getattr(tv, "calendar", None),
                            path, "time").astype("datetime64[D]")
        sm = np.asarray(np.ma.filled(ds["soil_moisture"][:], np.nan), dtype=float)
    if sm.shape != (days.size, lat.size):
        raise InputError(f"{path}: soil_moisture has shape {sm.shape}; expected (time, cell) "
                         f"= ({days.size}, {lat.size})")
    rows, cols = np.unique(lat), np.unique(lon)
    if rows.size * cols.size > 50 * lat.size:
        raise InputError(f"{path}: its {lat.size} cells do not lie on a lattice "
                         f"({rows.size} latitudes x {cols.size} longitudes)")
    valid_cells = np.isfinite(sm)
    has_data = np.flatnonzero(valid_cells.any(axis=1))
    keep = slice(0, has_data[-1] + 1) if has_data.size else slice(0, 0)
    r, c = np.searchsorted(rows, lat), np.searchsorted(cols, lon)
    land = np.zeros((rows.size, cols.size), dtype=bool)
    land[r, c] = True
    valid = np.zeros((days[keep].size, rows.size, cols.size), dtype=bool)
    valid[:, r, c] = valid_cells[keep]
    return SatelliteMasks(days=days[keep], valid=valid, lat=rows, lon=cols, land=land,
                          source=str(path))


def _years_back(day: np.datetime64, years: int) -> np.datetime64:
    """The same calendar day ``years`` earlier (29 February -> 28 February)."""
    y, md = str(day)[:4], str(day)[4:]
    text = f"{int(y) - years:04d}{md}"
    try:
        return np.datetime64(text, "D")
    except ValueError:
        return np.datetime64(text.replace("-02-29", "-02-28"), "D")


class GapSampler:
    """The valid mask of a model grid on each day (see the module notes).

    Parameters
    ----------
    masks : SatelliteMasks
    grid : LatLonGrid
        The model grid (its land mask is applied).
    start, end : datetime64 or str
        The days the run needs masks for.
    seed : int
        Chooses the offsets in space and time.
    """

    def __init__(self, masks: SatelliteMasks, grid: LatLonGrid, start, end, seed: int):
        self.masks, self.grid = masks, grid
        rng = np.random.default_rng([int(seed), 31])
        self.index = self._lattice_index(rng)
        self.offset = self._day_offset(np.datetime64(start, "D"), np.datetime64(end, "D"), rng)

    def _lattice_index(self, rng) -> np.ndarray:
        """(ny, nx) flat lattice index of each model cell's land lattice cell."""
        m, g = self.masks, self.grid
        lat = np.sort(g.lat)
        span_y, span_x = float(lat[-1] - lat[0]), float(g.lon[-1] - g.lon[0])
        room_y, room_x = float(m.lat[-1] - m.lat[0]), float(m.lon[-1] - m.lon[0])
        scale_y, scale_x = max(1.0, span_y / room_y), max(1.0, span_x / room_x)
        shift_y = rng.uniform(0.0, max(room_y - span_y / scale_y, 0.0))
        shift_x = rng.uniform(0.0, max(room_x - span_x / scale_x, 0.0))
        y = m.lat[0] + shift_y + (g.lat - lat[0]) / scale_y
        x = m.lon[0] + shift_x + (g.lon - g.lon[0]) / scale_x
        rows = np.rint(np.interp(y, m.lat, np.arange(m.lat.size))).astype(int)
        cols = np.rint(np.interp(x, m.lon, np.arange(m.lon.size))).astype(int)
        _, (near_r, near_c) = distance_transform_edt(~m.land, return_indices=True)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        return np.ravel_multi_index((near_r[rr, cc], near_c[rr, cc]), m.land.shape)

    def _day_offset(self, start, end, rng) -> int:
        """Days to add to a model day to get its SMAP day."""
        first, last = self.masks.days[0], self.masks.days[-1]
        shift = int(rng.integers(-MAX_DAY_SHIFT, MAX_DAY_SHIFT + 1))
        fits = []
        for years in range(-3, 30):
            offset = int((_years_back(start, years) - start) / np.timedelta64(1, "D")) + shift
            if start + offset >= first and end + offset <= last:
                fits.append(offset)
        if fits:
            return int(rng.choice(fits))
        return int((first - start) / np.timedelta64(1, "D"))  # wraps (see mask)

    def smap_day(self, day) -> np.datetime64:
        """The SMAP day whose mask model day ``day`` takes."""
        d = np.datetime64(day, "D") + self.offset
        n = self.masks.days.size
        k = int((d - self.masks.days[0]) / np.timedelta64(1, "D")) % n
        return self.masks.days[k]

    def mask(self, day) -> np.ndarray:
        """Valid observation cells of the model grid on ``day``, (ny, nx) bool (land only)."""
        k = int((self.smap_day(day) - self.masks.days[0]) / np.timedelta64(1, "D"))
        return self.masks.valid[k].ravel()[self.index] & self.grid.land


class SyntheticSwaths:
    """Swath-like daily gaps for when the SMAP file is absent (a fresh clone without
    ``../shared``): the demo then still runs, with gaps of the same look and coverage.

    Valid where the position across a band of swaths tilted by 15 degrees from north-south,
    ``period_deg`` wide and moving east by ``shift_deg`` a day, is in its first
    ``coverage`` part; minus a persistent 10 % of the cells (a smooth field's top decile:
    dense vegetation, open water) and 5 % random dropouts a day.

    Parameters
    ----------
    grid : LatLonGrid
    seed : int
    coverage, period_deg, shift_deg : float
    """

    def __init__(self, grid: LatLonGrid, seed: int, coverage: float = 0.55,
                 period_deg: float = 24.0, shift_deg: float = 9.0):
        self.grid, self.seed = grid, int(seed)
        self.coverage, self.period, self.shift = coverage, period_deg, shift_deg
        lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
        tilt = np.deg2rad(15.0)
        self.across = lon2 * np.cos(np.deg2rad(lat2)) + np.tan(tilt) * lat2
        rng = np.random.default_rng([self.seed, 37])
        persistent = rng.standard_normal(grid.shape)
        smooth = np.fft.ifft2(np.fft.fft2(persistent) * np.exp(
            -((np.fft.fftfreq(grid.shape[0])[:, None] * 4) ** 2
              + (np.fft.fftfreq(grid.shape[1])[None, :] * 4) ** 2) * np.pi**2)).real
        self.blocked = smooth > np.quantile(smooth, 0.9)
        self.phase = rng.uniform(0.0, self.period)

    def mask(self, day) -> np.ndarray:
        """Valid cells on ``day``, (ny, nx) bool (land only)."""
        n = int((np.datetime64(day, "D") - np.datetime64("1970-01-01", "D"))
                // np.timedelta64(1, "D"))
        position = (self.across + self.phase + n * self.shift) % self.period / self.period
        drop = np.random.default_rng([self.seed, 39, n]).random(self.grid.shape) < 0.05
        return (position < self.coverage) & ~self.blocked & ~drop & self.grid.land


def satellite_gaps(data_dir, grid: LatLonGrid, start, end, seed: int):
    """SMAP's gaps (:class:`GapSampler`) when ``data_dir`` holds the SMAP file, else
    :class:`SyntheticSwaths`; returns (gaps, description)."""
    path = Path(data_dir, SMAP_FILE) if data_dir is not None else None
    if path is not None and path.exists():
        masks = read_smap_masks(path)
        gaps = GapSampler(masks, grid, start, end, seed)
        return gaps, (f"SMAP L3 AM daily valid masks ({path.name}, {masks.valid_fraction:.0%} "
                      f"of its land cell-days valid), model day + {gaps.offset} days")
    return SyntheticSwaths(grid, seed), (f"synthetic swaths ({SMAP_FILE} not found under "
                                         f"{data_dir})")

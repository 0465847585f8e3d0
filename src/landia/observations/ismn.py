"""ISMN in-situ soil moisture: the "header+values" text format (``*.stm``).

Layout (International Soil Moisture Network, Dorigo et al. 2011)::

    MAQU  MAQU  CST_01   33.88330   102.13330 3431.00    0.05    0.05 ECH20-EC-TM
    2008/07/01 00:00   0.5000 C03 M
    2008/07/01 01:00   0.5000 C03 M
    ...

The first line is the header: CSE (continental-scale experiment) id, network,
station, latitude (degrees_north), longitude (degrees_east), elevation (m),
depth from, depth to (m below the surface), sensor. Every other line is one
value: date ``YYYY/MM/DD``, time ``HH:MM`` (UTC), value (m3 m-3 for soil
moisture), ISMN quality flag(s) (comma-separated, e.g. ``C03,D03``), provider
flag. Files use CR, LF or CRLF line endings (the Maqu files use CR only).

The file name repeats the header:
``CSE_NETWORK_STATION_VARIABLE_DEPTHFROM_DEPTHTO_SENSOR_START_END.stm``; when
the first line is not a header (a values-only file), station, depths and sensor
come from the name and the position is unknown (NaN).

ISMN flags (https://ismn.earth/en/data/flag-overview/): ``G`` good; ``U``
unchecked (the quality control could not be applied, usually because ancillary
data were missing); ``C01``-``C03`` outside plausible ranges (C01 below 0,
C02 above 0.6 m3 m-3, C03 above the saturation point); ``D01``-``D10``
geophysical-consistency failures (D01-D05: frozen soil or no rise in soil
moisture with rain, D06-D10: spectrum-based spikes, breaks, plateaus).
:data:`DEFAULT_ACCEPTED_FLAGS` accepts G and U and nothing else.

Reading is I/O; :func:`accepted` (the flag policy) is arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError

#: ISMN flags accepted by default: G (good) and U (unchecked: the Maqu files have no G).
DEFAULT_ACCEPTED_FLAGS: tuple[str, ...] = ("G", "U")

_DATA = re.compile(r"^(\d{4})/(\d{2})/(\d{2})\s+(\d{2}):(\d{2})\s+(\S+)\s+(\S+)(?:\s+(.*\S))?\s*$")


@dataclass
class IsmnSeries:
    """One ISMN sensor's time series.

    Attributes
    ----------
    network, station, sensor : str
        Names from the header (``cse`` is the continental-scale experiment id).
    lat, lon : float
        Position, degrees_north / degrees_east (NaN when the file has no header).
    elevation : float
        m above sea level (NaN when unknown).
    depth_from, depth_to : float
        Sensor depth range, m below the surface (equal for a point sensor).
    times : ndarray of datetime64[s]
        UTC time of each value.
    values : ndarray of float
        Volumetric soil moisture, m3 m-3.
    ismn_flag, provider_flag : ndarray of str
        ISMN quality flag(s) (comma-separated codes) and the provider's own flag.
    source : str
        File path, for messages.
    """

    network: str
    station: str
    lat: float
    lon: float
    elevation: float
    depth_from: float
    depth_to: float
    sensor: str
    times: np.ndarray
    values: np.ndarray
    ismn_flag: np.ndarray
    provider_flag: np.ndarray
    cse: str = ""
    source: str = "<memory>"

    @property
    def depth(self) -> float:
        """Mid depth of the sensor, m."""
        return 0.5 * (self.depth_from + self.depth_to)

    def flag_counts(self) -> dict[str, int]:
        """Number of values of each distinct ISMN flag string (e.g. ``{"U": 9407, ...}``)."""
        codes, counts = np.unique(self.ismn_flag, return_counts=True)
        return {str(c): int(n) for c, n in zip(codes, counts)}


def accepted(flags: np.ndarray, accept=DEFAULT_ACCEPTED_FLAGS) -> np.ndarray:
    """Which values the flag policy accepts.

    A value is accepted when *every* code of its (comma-separated) ISMN flag is
    accepted. An accepted entry is an exact code (``G``, ``U``, ``C03``) or a prefix
    ending in ``*`` (``D*`` accepts every D code). So with the default ``("G", "U")``,
    ``U`` is accepted and ``C03``, ``D01`` and ``U,D01`` are not.

    Parameters
    ----------
    flags : array of str
        ISMN flag strings.
    accept : sequence of str
        Accepted codes or prefixes.

    Returns
    -------
    ndarray of bool
    """
    exact = {a.strip().upper() for a in accept if a.strip() and not a.strip().endswith("*")}
    prefixes = tuple(a.strip().upper()[:-1] for a in accept if a.strip().endswith("*"))
    flags = np.asarray(flags, dtype=str)
    codes, inverse = np.unique(flags, return_inverse=True)

    def ok(flag: str) -> bool:
        parts = [p.strip().upper() for p in flag.split(",") if p.strip()]
        return bool(parts) and all(p in exact or (prefixes and p.startswith(prefixes))
                                   for p in parts)

    table = np.array([ok(str(c)) for c in codes], dtype=bool)
    return table[inverse].reshape(flags.shape) if codes.size else np.zeros(flags.shape, bool)


def parse_flag_option(text: str | None) -> tuple[str, ...]:
    """``"G,U"`` -> ``("G", "U")``; None or empty gives :data:`DEFAULT_ACCEPTED_FLAGS`."""
    if text is None or not text.strip():
        return DEFAULT_ACCEPTED_FLAGS
    return tuple(p.strip().upper() for p in text.split(",") if p.strip())


def _floats(tokens):
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def _parse_header(line: str):
    """(cse, network, station, lat, lon, elevation, depth_from, depth_to, sensor) or None."""
    tokens = line.split()
    # The station (and sensor) may contain spaces and numbers ("ST 1"): ISMN writes the five
    # numbers with a decimal point, so such a run is preferred to any run of numbers.
    for decimal in (True, False):
        for i in range(3, len(tokens) - 4):
            nums = _floats(tokens[i:i + 5])
            if nums is not None and (not decimal or all("." in t for t in tokens[i:i + 5])):
                return (tokens[0], tokens[1], " ".join(tokens[2:i]), *nums,
                        " ".join(tokens[i + 5:]))
    return None


def parse_filename(path: str | Path) -> dict | None:
    """Fields of an ISMN file name, or None when it does not follow the convention.

    ``CSE_NETWORK_STATION_VARIABLE_DEPTHFROM_DEPTHTO_SENSOR_START_END.stm`` with
    START/END as ``YYYYMMDD``; the station may itself contain underscores.
    """
    parts = Path(path).stem.split("_")
    if len(parts) < 8:
        return None
    for k in range(3, len(parts) - 4):
        depths = _floats(parts[k + 1:k + 3])
        if depths is None or not re.fullmatch(r"[a-z_]+", parts[k]):
            continue
        tail = parts[k + 3:]
        if len(tail) < 3 or not all(re.fullmatch(r"\d{8}", t) for t in tail[-2:]):
            continue
        return {"cse": parts[0], "network": parts[1], "station": "_".join(parts[2:k]),
                "variable": parts[k], "depth_from": depths[0], "depth_to": depths[1],
                "sensor": "_".join(tail[:-2]), "start": tail[-2], "end": tail[-1]}
    return None


def read_ismn(path: str | Path) -> IsmnSeries:
    """Read one ISMN "header+values" file.

    Parameters
    ----------
    path : path-like
        ``*.stm`` file (any line ending).

    Returns
    -------
    IsmnSeries
        Values in file order, which must be strictly increasing in time.

    Raises
    ------
    InputError
        Missing or empty file, header without values, an unparseable or truncated line
        (its 1-based line number is given), or times not strictly increasing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: ISMN file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.splitlines()  # CR, LF and CRLF alike
    if not any(line.strip() for line in lines):
        raise InputError(f"{path}: ISMN file is empty; expected a header line and "
                         "'YYYY/MM/DD HH:MM value flag provider_flag' lines")
    header = _parse_header(lines[0])
    first = 1
    if header is None:
        if _DATA.match(lines[0].strip()):
            info = parse_filename(path)
            if info is None:
                raise InputError(f"{path}: line 1 is a value, not an ISMN header, and the file "
                                 "name does not follow CSE_NETWORK_STATION_VARIABLE_DEPTHFROM_"
                                 "DEPTHTO_SENSOR_START_END.stm")
            header = (info["cse"], info["network"], info["station"], np.nan, np.nan, np.nan,
                      info["depth_from"], info["depth_to"], info["sensor"])
            first = 0
        else:
            raise InputError(f"{path}: line 1 is not an ISMN header; expected 'CSE NETWORK "
                             f"STATION LAT LON ELEVATION DEPTH_FROM DEPTH_TO SENSOR', got "
                             f"{lines[0][:120]!r}")
    cse, network, station, lat, lon, elev, d_from, d_to, sensor = header
    stamps, values, iflags, pflags = [], [], [], []
    for k in range(first, len(lines)):
        line = lines[k].strip()
        if not line:
            continue
        m = _DATA.match(line)
        value = None
        if m:
            try:
                value = float(m.group(6))
            except ValueError:
                value = None
        if value is None:
            last = " (the last line: truncated file?)" if k == len(lines) - 1 else ""
            raise InputError(f"{path}: line {k + 1}{last} cannot be parsed: {line[:120]!r}; "
                             "expected 'YYYY/MM/DD HH:MM value ismn_flag provider_flag'")
        y, mo, d, h, mi = m.group(1, 2, 3, 4, 5)
        stamps.append(f"{y}-{mo}-{d}T{h}:{mi}")
        values.append(value)
        iflags.append(m.group(7))
        pflags.append(m.group(8) or "")
    if not values:
        raise InputError(f"{path}: ISMN file has a header but no values")
    try:
        times = np.array(stamps, dtype="datetime64[s]")
    except ValueError as exc:
        raise InputError(f"{path}: invalid date or time: {exc}") from None
    bad = np.flatnonzero(np.diff(times) <= np.timedelta64(0, "s"))
    if bad.size:
        raise InputError(f"{path}: times are not strictly increasing at value {bad[0] + 2} "
                         f"({times[bad[0]]} then {times[bad[0] + 1]})")
    return IsmnSeries(network=network, station=station, lat=float(lat), lon=float(lon),
                      elevation=float(elev), depth_from=float(d_from), depth_to=float(d_to),
                      sensor=sensor, times=times, values=np.asarray(values, dtype=float),
                      ismn_flag=np.asarray(iflags, dtype=str),
                      provider_flag=np.asarray(pflags, dtype=str), cse=cse, source=str(path))

"""The diagnostics' CSV and JSON files, written atomically (NaN as ``nan`` in CSV, ``null`` in
JSON)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from landia.io.atomic import atomic_path


def _fmt(v):
    if isinstance(v, float):
        return "nan" if not math.isfinite(v) else repr(v)
    return v


def write_csv(path, header: list[str], rows: list[list]) -> None:
    """CSV with a header line, written atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([_fmt(v) for v in r])


def write_json(path, obj) -> None:
    """JSON (NaN written as null), atomically."""

    def clean(o):
        if isinstance(o, float):
            return o if math.isfinite(o) else None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, np.generic):
            return clean(o.item())
        return o

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(clean(obj), indent=1, allow_nan=False) + "\n")

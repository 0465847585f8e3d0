"""``landia landscape``: write the synthetic landscape of a configuration as a static-input
file (the format of ``[landscape] file``, :mod:`landia.io.static_file`), or convert a per-cell
static file (``--from-cells``, :mod:`landia.io.cell_static`: the EASE-Grid 2.0 CONUS set's
``static.nc``) into one on the cells' lattice (docs/ease-grid.md)."""

from __future__ import annotations

from landia.commands.exit_status import root_only
from landia.commands.outputs import check_output
from landia.config import Settings
from landia.io.cell_static import convert_cell_static
from landia.io.static_file import StaticFields, write_static_file
from landia.landmask import grid_from_settings
from landia.landscape import build_landscape
from landia.log import get_logger

HELP = "write the synthetic landscape (texture, land cover, LAI) as a static-input file"


def add_parser(subparsers):
    """Add ``landscape`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "landscape", help=HELP,
        description="Write the synthetic soil texture, land cover and monthly LAI of the "
                    "configuration's grid ([grid], cycle.texture_seed) as a static-input "
                    "netCDF file: the format [landscape] file reads (docs/cycling.md). A run "
                    "with the file gives the same results as one without it; edit the file "
                    "or write one like it from real data.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--config",
                        help="TOML configuration or shipped name ([grid], cycle.texture_seed)")
    source.add_argument("--from-cells", metavar="FILE",
                        help="convert a per-cell static file (cell dimension, lat(cell), "
                             "lon(cell), Sand, Clay, NDVI, flag_landcover, SMAP flags) onto "
                             "its cells' rectilinear lattice (docs/ease-grid.md)")
    p.add_argument("--output", "-o", required=True, metavar="FILE",
                   help="the static-input file to write (netCDF)")
    return p


def run(args, settings, comm) -> int:
    """Write the file on the root (the other ranks wait)."""
    return root_only(comm, lambda: landscape(args, settings))


def landscape(args, settings: Settings) -> int:
    """Build the synthetic landscape of ``settings`` and write it to ``args.output``."""
    output = check_output(args.output, {})
    if getattr(args, "from_cells", None):
        cells = convert_cell_static(args.from_cells, output)
        get_logger("landia.landscape").info(
            "converted", source=args.from_cells, output=str(output), shape=cells.grid.shape,
            land_cells=cells.grid.n_land, texture_filled=cells.filled_texture,
            flags=sorted(cells.flags))
        return 0
    grid, _ = grid_from_settings(settings.grid)
    built = build_landscape(grid, settings.cycle.texture_seed)
    write_static_file(output, grid, StaticFields(
        sand=built.sand, clay=built.clay, land_cover=built.land_cover,
        lai_monthly=built.lai_monthly, elevation=built.elevation))
    get_logger("landia.landscape").info("written", output=str(output), land_cells=grid.n_land,
                                        texture_seed=settings.cycle.texture_seed)
    return 0

"""``landia prepare-obs``: soil-moisture products -> QC'd observation images on the model grid."""

from __future__ import annotations

from landia.commands.exit_status import root_only
from landia.commands.outputs import output_folder
from landia.config import Settings
from landia.observations.prepare import prepare_observations, summary_table


def add_parser(subparsers):
    """Add ``prepare-obs`` to ``landia``'s sub-parsers; returns its parser."""
    o = subparsers.add_parser("prepare-obs", help="map soil-moisture products to model-grid "
                                                  "observation images",
                              description="Read product files (ERA5/ERA5-Land, GLDAS-2.1, "
                                          "C3S/ESA CCI, SMAP L3), regrid them conservatively to "
                                          "the model grid of [grid], map their layers to CoLM "
                                          "layers, QC them and write obs_YYYYMMDDTHHMM.nc per "
                                          "time ([observations]).")
    o.add_argument("--product", nargs="+", required=True, metavar="PATH",
                   help="product file(s) or folder(s)")
    o.add_argument("--config", default=None, help="TOML configuration ([grid], [observations])")
    o.add_argument("--output-dir", required=True, help="folder for the observation files (created when missing)")
    o.add_argument("--porosity", default=None,
                   help="field file with 'porosity' on the model grid (QC upper bound; default "
                        "observations.upper_bound)")
    return o


def run(args, settings: Settings, comm) -> int:
    """The root reads, regrids and writes; the other ranks wait for its status."""
    return root_only(comm, lambda: prepare_obs(args, settings))


def prepare_obs(args, settings: Settings) -> int:
    """Prepare every image and print a summary; 2 when a product file was unreadable."""
    output_folder(args.output_dir)
    images, failures = prepare_observations(args.product, settings, args.output_dir,
                                            porosity_file=args.porosity)
    print(summary_table(images))
    written = sum(1 for im in images if im.written)
    print(f"{written} observation file(s) written to {args.output_dir}, "
          f"{len(images) - written} image(s) refused, {len(failures)} file(s) unreadable")
    for message in failures:
        print(f"unreadable: {message}")
    return 2 if failures else 0

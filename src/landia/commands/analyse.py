"""``landia analyse``: one image 3D-Var analysis from a background and an observation file."""

from __future__ import annotations

from pathlib import Path

from landia.commands.exit_status import exit_status, root_only
from landia.commands.outputs import check_output
from landia.config import Settings
from landia.errors import InputError
from landia.io.analysis_file import read_analysis, write_analysis
from landia.io.fields import read_field
from landia.log import get_logger
from landia.observations.bias import BiasCorrection
from landia.observations.timing import check_valid_time


def add_parser(subparsers):
    """Add ``analyse`` (alias ``analyze``) to ``landia``'s sub-parsers; returns its parser."""
    a = subparsers.add_parser("analyse", aliases=["analyze"], help="run one image 3D-Var analysis")
    a.add_argument("--config", required=True, help="TOML configuration file")
    a.add_argument("--background", required=True, help="background field file (netCDF)")
    a.add_argument("--obs", required=True, help="observation image file (netCDF)")
    a.add_argument("--output", required=True, help="analysis file to write (netCDF)")
    a.add_argument("--check", action="store_true",
                   help="run the online adjoint and gradient checks before minimising")
    a.add_argument("--image-error-from", metavar="ANALYSIS",
                   help="take the image-error variance of each curvelet scale (or band, "
                        "with analysis.image_error_bands = 'wedge') from a previous analysis "
                        "file (its image_error_variance_next), as a cycle carries it")
    a.add_argument("--normalisation-cache", metavar="DIR",
                   help="folder keeping the correlated B's normalisation between runs (read "
                        "when a valid file for this grid and B is there, else computed and "
                        "written); without it, computed every run")
    return a


def run(args, settings: Settings, comm) -> int:
    """The analysis is global (the curvelet transform couples every cell): the root runs it.
    With ``analysis.distribute = "wedges"`` on several ranks, every rank evaluates part of
    JI's curvelet wedges (:mod:`landia.cycling.wedge_exchange`)."""
    if settings.analysis.distribute == "wedges" and comm.Get_size() > 1:
        from landia.cycling.wedge_exchange import warm_transform, with_wedges_on_ranks

        def warm():  # the other ranks build the transform while the root prepares
            warm_transform(read_field(args.background, "background").shape, settings.curvelet)

        return exit_status(lambda: with_wedges_on_ranks(
            comm, lambda exchange: analyse(args, settings, exchange), warm) or 0)
    return root_only(comm, lambda: analyse(args, settings))


def analyse(args, settings: Settings, image_exchange=None) -> int:
    """Read the two fields, analyse (JI's wedges over ``image_exchange`` when given), write
    the analysis file; returns 0."""
    # The analysis stack (pylops, curvelets: most of landia's import time) loads when the
    # command runs, not each time the parser is built (every command, --help, serve).
    from landia.analysis import run_analysis
    from landia.analysis.analyse import build_problem
    from landia.analysis.checks import online_checks

    log = get_logger("landia")
    check_output(args.output, {"--background": args.background, "--obs": args.obs,
                               "--image-error-from": args.image_error_from})
    background = read_field(args.background, "background")
    observation = read_field(args.obs, "observation")
    if background.valid_time is not None and observation.valid_time is not None:
        check_valid_time(observation, background.valid_time,
                         settings.observations.valid_time_tolerance_minutes,
                         f"the background {args.background} valid at")
    bias = BiasCorrection.from_settings(settings, Path.cwd(), background.lat, background.lon)
    observation = bias.apply(observation)
    variances = _carried_variances(args.image_error_from)
    if args.check:
        online_checks(build_problem(background, observation, settings, variances,
                                    normalisation_cache=args.normalisation_cache), log)
    result = run_analysis(background, observation, settings, image_error_variance=variances,
                          image_exchange=image_exchange,
                          normalisation_cache=args.normalisation_cache)
    # The analysis is valid when its background is (the observation's time, checked within
    # the tolerance, stands in when the background has none).
    valid_time = (background.valid_time if background.valid_time is not None
                  else observation.valid_time)
    write_analysis(args.output, result, settings, valid_time=valid_time)
    log.info("written", output=str(args.output))
    return 0


def _carried_variances(path):
    """The ``image_error_variance_next`` of a previous analysis file (None without one)."""
    if path is None:
        return None
    previous = read_analysis(path)
    if previous.image_error is None:
        raise InputError(f"{path}: no image-error variances (the analysis had no image term); "
                         "--image-error-from needs an analysis file with one")
    return previous.image_error["image_error_variance_next"]

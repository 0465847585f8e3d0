"""The commands of ``landia``, one module each (the git/cargo layout).

Every command module has the same two entry points, which :mod:`landia.cli` calls:

* ``add_parser(subparsers)`` adds the command, its options and its help to ``landia``'s
  argparse sub-parsers and returns its parser;
* ``run(args, settings, comm) -> int`` runs it and returns the exit status: ``settings`` is
  the run configuration (:class:`~landia.config.Settings`; None for ``validate``,
  ``config-keys`` and ``serve``, which read none) and ``comm`` the world communicator (None
  for ``serve``, which runs without MPI).

``run`` says where the command runs: most run on the root while the other ranks wait and
return the root's status (:func:`~landia.commands.exit_status.root_only`); ``cycle`` and
``spinup`` run on every rank. Below ``run``, a function named after the command does the work and raises
:class:`~landia.errors.LandiaError` for bad input (what the tests call).

=========================  ======================================================
module                     command
=========================  ======================================================
:mod:`.analyse`            ``analyse`` (``analyze``): one image 3D-Var analysis
:mod:`.validate`           ``validate``: check a configuration file
:mod:`.config_keys`        ``config-keys``: document every configuration key
:mod:`.demo`               ``demo``: the embedded experiment
:mod:`.column`             ``column``: one soil column at a site
:mod:`.threshold_diagnostics`  ``threshold-diagnostics``: curvelet threshold diagnostics
:mod:`.estimate_b`         ``estimate-b``: background-error variances
:mod:`.estimate_vertical`  ``estimate-vertical``: B's vertical length below the analysed layers
:mod:`.prepare_obs`        ``prepare-obs``: products -> model-grid observation images
:mod:`.climatology`        ``climatology``: model and observation climatologies (rescaling)
:mod:`.landscape`          ``landscape``: the synthetic landscape as a static-input file
:mod:`.split_daily`        ``split-daily``: a per-cell time series as one file per day
:mod:`.cycle`              ``cycle``: the MPI assimilation cycle
:mod:`.spinup`             ``spinup``: the period cycled in CTRL mode until it stops drifting
:mod:`.configs`            ``configs``: the shipped configurations
:mod:`.make_obs`           ``make-obs``: synthetic observations (OSSE)
:mod:`.serve`              ``serve``: the near-real-time scheduler
:mod:`.verify`             ``verify``: scores against references and stations
:mod:`.bench`              ``bench``: benchmarks
=========================  ======================================================

Shared by them: :mod:`.exit_status` (error -> exit status, root-only commands) and
:mod:`.progress` (the progress bar on stderr).
"""

"""The sections of a landia configuration, one frozen dataclass of declared keys each.

Each field is a :func:`~landia.config.keys.key` declaration (default, meaning, range,
choices); ``docs/configuration.md`` is generated from them. A new section is one class here,
added to :data:`landia.config.SECTIONS` and to :class:`landia.config.Settings`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Union

from landia.config.keys import key

TERMS = ("background", "point", "image")


@dataclass(frozen=True)
class AnalysisSettings:
    """The 3D-Var problem: control vector, active cost terms, error variances, bounds."""

    layers: int = key(3, "Number of model layers from the top in the control vector "
                         "(CoLM layers 1-3 span 0-9 cm).", lo=1, hi=10)
    vertical_length_m: float = key(
        0.0, "Vertical correlation length L_z of the background error below the analysed "
             "layers, m: each deeper layer k takes the deepest analysed layer's increment "
             "times exp(-(z_k - z_L)/L_z) (node depths z; the conditional mean under an "
             "exponential vertical correlation with equal variances; `landia "
             "estimate-vertical` estimates it from an open-loop run; docs/analysis.md). 0: "
             "none, the paper's (the layers below take no increment).", lo=0.0)
    vertical_carry: str = key(
        "increment", "What vertical_length_m carries below the analysed layers: 'increment' "
                     "(default), the deepest analysed layer's increment; 'anomaly', that "
                     "increment less its mean over the land cells (in an ensemble, of the "
                     "members' mean increment): the deeper layers take the increment's spatial "
                     "structure but not its domain-wide level, which a biased product taken at "
                     "its level puts there (docs/analysis.md). 'anomaly' needs "
                     "vertical_length_m > 0.",
        choices=("increment", "anomaly"))
    terms: list = key(["background", "image"],
                      "Active cost terms, any of 'background' (JB), 'point' (JO) and "
                      "'image' (JI). The paper's image 3D-Var is background+image.",
                      choices=TERMS)
    background_error_variance: float = key(
        2.5e-3, "B diagonal, (m3 m-3)^2, used where the background file has no "
                "`background_error_variance` variable.", lo=0.0, lo_open=True)
    observation_error_variance: float = key(
        4.0e-4, "Point-observation error variance (O+F diagonal), (m3 m-3)^2, used where "
                "the observation file has no `observation_error_variance` variable.",
        lo=0.0, lo_open=True)
    image_error_variance: float = key(
        4.0e-4, "s2 in JI = 1/(2 s2) ||P C E (x - y)||^2, (m3 m-3)^2. 1.0 reproduces the "
                "paper's unweighted image term, which barely moves the analysis.",
        lo=0.0, lo_open=True)
    image_gap_weight: float = key(
        0.0, "JI over the whole analysis image: land cells without an observation take the "
             "observed image's gap fill with this weight (observed cells: 1). 0 (default): the "
             "term on observed cells only. Random gaps favour about 0.3, a satellite's swath "
             "gaps 0 (docs/analysis.md).",
        lo=0.0, hi=1.0)
    image_error_method: str = key(
        "auto", "How JI's image-error variance is set: one variance per scale estimated "
                "with each analysis and carried by the cycle to the next one, starting "
                "from image_error_variance and never below image_error_floor: "
                "'desroziers' (from the O-B and O-A statistics in curvelet space) or "
                "'innovation' (the optimal gain per scale from the O-B statistics and the "
                "stated observation and background errors); or 'fixed' "
                "(image_error_variance for every curvelet scale, the paper's). 'auto' "
                "(default): 'desroziers' with a correlated B (correlation_length_km > 0), "
                "'innovation' with the diagonal B, which states too little large-scale "
                "variance for Desroziers' relations (measured: docs/analysis.md). A single "
                "analysis uses image_error_variance either way.",
        choices=("auto", "fixed", "desroziers", "innovation"))
    image_error_bands: str = key(
        "scale", "Estimated variances (image_error_method other than 'fixed', which 'wedge' "
                 "needs): one per "
                 "curvelet scale ('scale'), or one per scale and wedge, i.e. per orientation "
                 "('wedge'): an error correlated along one direction, as a satellite's swath "
                 "stripes, is then weighted down in the wedges it fills and not elsewhere "
                 "(docs/analysis.md).",
        choices=("scale", "wedge"))
    image_error_memory: float = key(
        0.5, "Estimated variances: weight of the current variance in the cycled update "
             "s2_next = memory s2 + (1 - memory) estimate (0: take each estimate as it is).",
        lo=0.0, hi=0.99)
    image_error_floor: Union[str, float] = key(
        "variance", "Estimated variances: smallest value carried, (m3 m-3)^2, or 'variance' "
                    "(default): image_error_variance, so that the estimates only loosen the "
                    "term where the observations are worse than stated (a bias, a correlated "
                    "error) and never tighten it. The floor bounds the image term's Hessian, "
                    "1/floor, and so the iterations (docs/analysis.md).",
        lo=0.0, lo_open=True, choices=("variance",))
    image_error_cap: float = key(
        1.0e-1, "Estimated variances: largest value carried, (m3 m-3)^2 (a scale at the cap "
                "barely constrains the analysis).", lo=0.0, lo_open=True)
    local_image_error: Union[bool, str] = key(
        "auto", "Estimate, per land cell, the observation error beyond the stated one from the "
                "image's fine-scale curvelet innovations (the local energy of the noise where "
                "the background error puts little), cycled with image_error_memory and "
                "image_error_cap; JI standardises each cell's residual by it and JO adds it to "
                "the stated variance. 'auto' (default): on wherever the image term JI takes "
                "part (a 3D-Var with 'image' in analysis.terms and image_gap_weight 0), off "
                "elsewhere. true also with 'point' alone, where the observed image's transform "
                "is built for the estimate only; false: the stated error, the paper's "
                "(docs/analysis.md).", choices=(True, False, "auto"))
    hybrid_split: bool = key(
        True, "With both JO and JI (the hybrid), give each half the observations' "
              "information: JO's variances and JI's image-error variances doubled (the "
              "default). The paper's hybrid (false) counts every observation twice, 0.01 "
              "SCC below point 3D-Var in the demo (docs/analysis.md).")
    image_error_window: float = key(
        2.0, "local_image_error: standard deviation, in grid cells, of the Gaussian "
             "neighbourhood over which the fine-scale innovation energy is pooled.",
        lo=0.0, hi=1e3)
    lower_bound: float = key(0.0, "Lower bound of soil moisture, m3 m-3.", lo=0.0, hi=1.0)
    upper_bound: Union[str, float] = key(
        "porosity", "Upper bound: 'porosity' (the background file's `porosity` variable) "
                    "or a number in m3 m-3.", lo=0.0, hi=1.0, choices=("porosity",))
    min_valid_cells: int = key(10, "Observation images with fewer valid land cells in a "
                                   "layer are refused for that layer.", lo=1)
    correlation_length_km: float = key(
        300.0, "Length scale L (Daley's) of the background-error correlation, km: B = D^1/2 C "
               "D^1/2 with C an implicit diffusion over adjacent land cells (nothing "
               "correlates across the sea), minimised through the control-variable transform. "
               "300 was best on the real-field case (docs/analysis.md); 0 gives the paper's "
               "diagonal B, with which no information reaches a cell without an observation.",
        lo=0.0, hi=5000.0)
    distribute: Union[bool, str] = key(
        False, "In a cycle, true: solve the analysed layers as independent problems, layer k "
               "on rank k mod size (any number of ranks gives the same bits), when no cost "
               "term couples them (all but local_image_error, on by default with JI); agrees "
               "with the joint analysis to the minimiser's tolerance. 'wedges' (a cycle, or "
               "`landia analyse` on several ranks): the root minimises the joint J and every rank evaluates part "
               "of the image term's curvelet wedges, one reduction per evaluation; equal to "
               "the joint analysis to round-off (1e-10 m3 m-3). false: the root alone solves "
               "the joint problem, the fastest on the measured cases "
               "(docs/distributed-analysis.md).", choices=(True, False, "wedges"))
    correlation_steps: int = key(
        4, "m, the number of implicit diffusion steps of the correlation (even, >= 4): the "
           "kernel is a Matern function of smoothness m - 1, Gaussian-like for large m; "
           "each application of B^1/2 costs m/2 sparse solves.", lo=4, hi=20)

    @property
    def image_error_method_used(self) -> str:
        """``image_error_method`` with 'auto' resolved: 'desroziers' where B is correlated
        (``correlation_length_km`` > 0), 'innovation' where it is diagonal."""
        if self.image_error_method != "auto":
            return self.image_error_method
        return "desroziers" if self.correlation_length_km > 0 else "innovation"

    @property
    def image_error_floor_value(self) -> float:
        """``image_error_floor`` in (m3 m-3)^2: 'variance' resolved to
        ``image_error_variance``."""
        floor = self.image_error_floor
        return self.image_error_variance if floor == "variance" else float(floor)


@dataclass(frozen=True)
class CurveletSettings:
    """The image structure operator Hc = P C E."""

    backend: str = key("udct", "'udct': the UDCT of package `curvelets` (always available), "
                               "computed by landia's fast path (operators/fast_udct.py); "
                               "'udct-reference': the same transform computed by the library "
                               "itself (equal to round-off; slower by 10x on small grids, 3x at 256 x 256); 'fdct': CurveLab via "
                               "the optional package `curvelops`.",
                       choices=("udct", "udct-reference", "fdct"))
    sigma: float = key(1.0, "Fraction of the observed image's curvelet coefficients kept, "
                            "largest modulus first; 1 (default) keeps them all. The paper's "
                            "0.5 scored lower on every case measured: thresholding only "
                            "loses information on soil-moisture fields (docs/analysis.md, "
                            "'Curvelet thresholding against a linear smoother').",
                       lo=0.0, hi=1.0, lo_open=True)
    scales: int = key(0, "Number of scales including the low-pass one; 0 chooses "
                         "ceil(log2(min(ny, nx))) within [2, 5]: 5 on the paper's 32 x 31 "
                         "grid and larger ones (measured: docs/analysis.md).",
                      lo=0, hi=12)
    wedges: int = key(3, "Angular wedges per direction at the coarsest scale "
                         "(multiple of 3; doubles at each finer scale).", lo=3, hi=48)
    fft_shape: bool = key(False, "Pad images to a transform shape whose sides are fast FFT "
                                 "lengths (multiple of UDCT's quantum times a 2-3-5-7-11-smooth "
                                 "number) instead of the smallest UDCT shape: on the 0.1 deg "
                                 "global grid 1920 rather than 1808 = 16 x 113 rows, 2.4x "
                                 "faster transforms (docs/curvelet-speed.md). Changes the "
                                 "analysis where the two shapes differ.")
    fill_decay: float = key(
        1.5, "Screening length, in grid cells, over which the fill of sea/missing cells "
             "relaxes from the valid values to their mean; 0 gives the pure harmonic fill, "
             "whose conditioning worsens with resolution (docs/analysis.md).", lo=0.0, hi=1e6)
    fill_sweeps: int = key(4, "Jacobi sweeps per pyramid level of the sea/missing-cell "
                              "fill on large grids (small grids are filled exactly).",
                           lo=0, hi=100)
    exact_fill_cells: int = key(
        80000, "Grids with at most this many cells to fill get the exact fill (sparse LU); "
               "larger ones the matrix-free multilevel approximation.", lo=0)


@dataclass(frozen=True)
class MinimiserSettings:
    """How J is minimised."""

    backend: str = key("tao", "'tao' (PETSc/TAO via petsc4py) or 'scipy' (L-BFGS-B); "
                              "'tao' falls back to 'scipy', with a warning, where petsc4py "
                              "is not importable.",
                       choices=("tao", "scipy"))
    tao_type: str = key("blmvm", "TAO solver type; bounded: blmvm, bqnls, bncg, bqnkls, "
                                 "bqnktr, bqnktl; unbounded (bounds then only clip the "
                                 "result): lmvm, cg.",
                        choices=("blmvm", "bqnls", "bncg", "lmvm", "cg", "bqnkls",
                                 "bqnktr", "bqnktl"))
    gttol: float = key(1.0e-5, "Stop when the projected gradient norm ||g|| <= gttol "
                               "||g0|| (relative to the first gradient; TAO's gttol). 1e-5 "
                               "leaves analyses within 1e-5 m3 m-3 of those at 1e-6, in 2-5 "
                               "fewer iterations (docs/analysis.md).",
                       lo=0.0)
    gatol: float = key(1.0e-5, "Also stop when ||g|| <= gatol, a floor for cases whose first "
                               "gradient is already tiny (J's round-off stalls line searches "
                               "near 1e-6); 1e-5 means analysis errors below ~1e-7 m3 m-3 "
                               "for B variances up to 0.01.", lo=0.0)
    max_iterations: int = key(200, "Iteration limit; reaching it without convergence is "
                                   "an error.", lo=1)
    petsc_options: str = key("", "Extra PETSc options, e.g. '-tao_monitor -tao_view' "
                                 "(the command line and PETSC_OPTIONS work too).")


@dataclass(frozen=True)
class LoggingSettings:
    """Log output."""

    format: str = key("console", "'console' (human-readable) or 'json' (JSON lines).",
                      choices=("console", "json"))
    level: str = key("info", "Threshold on rank 0; other ranks log warnings only.",
                     choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class GridSettings:
    """The model grid: a regular lat/lon box with a real land mask (global-land-mask)."""

    south: float = key(23.0, "Southern edge of the box, degrees_north (the paper: 23).",
                       lo=-90.0, hi=90.0)
    north: float = key(68.0, "Northern edge, degrees_north (the paper: 68).", lo=-90.0, hi=90.0)
    west: float = key(73.0, "Western edge, degrees_east, -180..360 (the paper: 73).",
                      lo=-180.0, hi=360.0)
    east: float = key(117.0, "Eastern edge, degrees_east, -180..360 (the paper: 117); "
                             "west + 360 for a global grid.", lo=-180.0, hi=360.0)
    resolution: float = key(1.4, "Cell size, degrees (the paper: 1.4, giving 32 x 31 cells).",
                            lo=0.0, hi=30.0, lo_open=True)
    land_threshold: float = key(0.5, "A cell is land when at least this fraction of its "
                                     "sample points is land.", lo=0.0, hi=1.0, lo_open=True)
    land_samples: int = key(8, "Sample points per cell side for the land fraction "
                               "(k x k points).", lo=1, hi=64)
    from_landscape: bool = key(
        False, "Take the model grid from `landscape.file` instead of the box: its lat/lon "
               "(any rectilinear grid, e.g. the EASE-Grid 2.0 lattice that `landia landscape "
               "--from-cells` writes) and its land cells (where land_cover is set); the box "
               "keys are then unused (docs/ease-grid.md).")


@dataclass(frozen=True)
class ObservationSettings:
    """Soil-moisture products mapped to the model grid (`landia prepare-obs`), and their
    rescaling to the model's climatology before an analysis."""

    product: str = key("auto", "Reader: 'auto' (detected from the file), 'era5', 'gldas', "
                               "'cci' (C3S / ESA CCI) or 'smap'.",
                       choices=("auto", "era5", "gldas", "cci", "smap"))
    min_valid_fraction: float = key(
        0.05, "A model cell gets an observation only when at least this fraction of its area "
              "is covered by valid product cells (conservative regridding). 0.05 keeps a "
              "1.4-degree cell with about two valid 0.25-degree pixels (C3S May 2016 on the "
              "paper grid: 97.4 % of land cells; 0.5 keeps 79.2 %).",
        lo=0.0, hi=1.0, lo_open=True)
    vertical: str = key("node_in_range", "Product layers to model layers: 'node_in_range' "
                                         "(a model layer takes the product layer holding its "
                                         "node depth) or 'linear' (in depth between "
                                         "product-layer mid-depths).",
                        choices=("node_in_range", "linear"))
    layers: int = key(3, "Model layers written from the top (the paper mapped ERA-Interim's "
                         "0-7 cm layer to CoLM layers 1-3).", lo=1, hi=10)
    upper_bound: float = key(0.6, "QC: values above this are rejected (m3 m-3) where no "
                                  "porosity is given (prepare-obs --porosity).",
                             lo=0.0, hi=1.0, lo_open=True)
    min_valid_cells: int = key(10, "QC: an image with fewer valid land cells in its top "
                                   "layer is refused as a whole (logged, no file written).",
                               lo=1)
    error_variance: float = key(
        4.0e-4, "Observation-error variance, (m3 m-3)^2, where the product gives no "
                "uncertainty.", lo=0.0, lo_open=True)
    rescaling: str = key(
        "none", "Bias handling before each analysis (`landia cycle`, `landia analyse`): "
                "'none', 'cdf' (CDF matching to the model's climatology, per cell and layer), "
                "'mean_std' (mean and standard-deviation scaling) or 'anomaly' (anomalies "
                "about each climatology). See docs/observation-bias.md.",
        choices=("none", "cdf", "mean_std", "anomaly"))
    cdf_error_scaling: str = key(
        "std_ratio", "rescaling = 'cdf': the factor on a matched value's error standard "
                     "deviation: 'std_ratio' (sigma_model / sigma_obs of the cell and layer, "
                     "as NASA GMAO's land assimilation) or 'local_slope' (the CDF map's "
                     "slope at the value, which varies about 100-fold within a cell). See "
                     "docs/observation-bias.md.",
        choices=("std_ratio", "local_slope"))
    climatology: str = key(
        "", "Climatology file of `landia climatology`, required unless rescaling = 'none'; "
            "relative to the run directory (`landia cycle`) or the working directory "
            "(`landia analyse`).")
    min_climatology_samples: int = key(
        30, "Cells and layers with fewer paired training samples in the climatology are not "
            "rescaled but refused (counted as `no_climatology`).", lo=2)
    offset_correction: str = key(
        "none", "`landia cycle`: the product's mean offset against the model, estimated online "
                "and removed before each analysis: 'none', or 'cycled' (per layer, the mean "
                "O-B over the observed cells, a running mean over the cycles with "
                "offset_memory, carried in the checkpoint; needs no climatology). Applied after "
                "any rescaling. See docs/observation-bias.md.",
        choices=("none", "cycled"))
    offset_memory: float = key(
        0.9, "offset_correction = 'cycled': weight of the carried offset in "
             "offset_next = memory offset + (1 - memory) mean(O - B) (0.9: about ten analyses).",
        lo=0.0, hi=0.999)
    withhold_fraction: float = key(
        0.0, "`landia cycle`: fraction of the observed cells held out of every analysis and "
             "used to verify it (O-B and O-A at them, in the analysis file and the run log).",
        lo=0.0, hi=0.9)
    withhold_seed: int = key(0, "`landia cycle`: seed of the withheld cells; with the cycle "
                                "number it fixes them (the same on any number of ranks and "
                                "after a restart).", lo=0)
    valid_time_tolerance_minutes: float = key(
        30.0, "An observation image whose `valid_time` attribute lies further than this from "
              "the analysis time it is used for is refused (`landia cycle`: an "
              "`observation_rejected` alert and a model-only cycle; `landia analyse`: an "
              "error when the background carries a valid time). Files name times to the "
              "minute; 30 min allows a product's time stamp (e.g. 05:59:59 or a half-hour "
              "overpass) but nothing of another 6-hour window. A file without a valid time is "
              "taken on its name, with a warning.", lo=0.0)


@dataclass(frozen=True)
class CycleSettings:
    """The assimilation cycle (`landia cycle`): period, windows, mode, inputs, checkpoints."""

    start: str = key("2016-05-01T00:00", "First instant of the run, ISO date-time, UTC.")
    end: str = key("2016-05-03T00:00", "End of the run (exclusive), ISO date-time, UTC.")
    assimilation_end: str = key(
        "", "End of the assimilation period, ISO date-time, UTC; after it the run is a free "
            "forecast (no observations). Empty: assimilate until `end`.")
    window_hours: int = key(6, "Length of a cycle's model window, hours (the paper: 6).",
                            lo=1, hi=240)
    analysis_hours: list = key([0, 6, 12, 18], "UTC hours at which analyses are made (at the "
                                               "end of a window).",
                               choices=tuple(range(24)))
    mode: str = key("da", "'da' (assimilate) or 'ctrl' (the same run without assimilation).",
                    choices=("da", "ctrl"))
    observations: str = key(
        "", "Folder of observation images on the model grid (field files named "
            "obs_YYYYMMDDTHHMM.nc, as `landia prepare-obs` writes them); relative to the run "
            "directory. Empty: none (model-only cycles with an alert).")
    forcing: str = key("", "Forcing files: a glob pattern (relative to the run directory or "
                           "absolute), e.g. '/data/gldas/GLDAS_NOAH025_3H.A2016*.nc4'. Empty: "
                           "the built-in weather generator.")
    forcing_format: str = key("gldas", "Reader of the forcing files: 'gldas' (GLDAS-2.1 "
                                       "3-hourly), 'era5' (CDS hourly), 'qian' (CoLM/CLM "
                                       "datm) or 'cells' (one CF file of daily means per cell, "
                                       "e.g. NLDAS-2 of conus_nldas_smap, or a folder or "
                                       "pattern of one-day files, e.g. of `landia "
                                       "split-daily`; disaggregated to the "
                                       "model step keeping every daily budget; "
                                       "docs/forcing-disaggregation.md).",
                              choices=("gldas", "era5", "qian", "cells"))
    hydraulics: str = key(
        "clapp_hornberger", "Soil hydraulics of the columns: 'clapp_hornberger' (CoLM's "
        "Clapp-Hornberger retention and conductivity, Cosby et al. 1984 parameters) or "
        "'van_genuchten' (van Genuchten-Mualem, parameters derived from the same texture by "
        "the Clapp-Hornberger correspondence n = 1 + 1/b, alpha = 1/|psi_sat|, theta_r = 0.15 "
        "porosity; a structurally different model, e.g. for a fraternal-twin truth; "
        "docs/columns.md).", choices=("clapp_hornberger", "van_genuchten"))
    weather_seed: int = key(1, "Seed of the weather generator (forcing).", lo=0)
    precipitation_seed: int = key(-1, "Seed of the generator's rain events; -1: the "
                                      "weather seed.", lo=-1)
    texture_seed: int = key(11, "Seed of the synthetic soil texture (unused with "
                                "`landscape.file`).", lo=0)
    initial_saturation: float = key(0.5, "Cold start: liquid water as a fraction of "
                                         "porosity in every layer.", lo=0.0, hi=1.0)
    initial_state: str = key("", "Cold start from a landia state file on the model grid (a "
                                 "run's `states/state_*.nc`, e.g. the last of a spin-up): its "
                                 "soil moisture of all 10 layers, within [0, porosity], becomes "
                                 "the liquid water (instead of initial_saturation); relative to "
                                 "the run directory. Empty: the default state.")
    keep_checkpoints: int = key(3, "Checkpoints kept in the run directory (newest first).",
                                lo=1)


@dataclass(frozen=True)
class LandscapeSettings:
    """The static model input of `landia cycle`: soil texture, land cover, monthly LAI."""

    file: str = key("", "Static-input netCDF file on the model grid (sand and clay %, "
                        "land_cover classes, monthly lai, optional elevation; "
                        "docs/cycling.md; `landia landscape` writes one), relative to the run "
                        "directory. Empty: the synthetic landscape seeded by "
                        "`cycle.texture_seed` (the OSSE default).")


#: Order of the cross-correlations in ``perturbation.correlations``.
PERTURBED_PAIRS = ("precipitation-shortwave", "precipitation-longwave",
                   "precipitation-air_temperature", "shortwave-longwave",
                   "shortwave-air_temperature", "longwave-air_temperature")


@dataclass(frozen=True)
class PerturbationSettings:
    """Perturbations of the forcing in the SMAP Level-4 / CoLM202X style
    (`landia/forcing/perturbation.py`; docs/demo.md uses it for the truth): multiplicative lognormal
    precipitation and shortwave (mean 1), additive longwave and air temperature (mean 0), each
    an AR(1) process in time on a lattice of `step_hours`, Gaussian-correlated in space over
    `length_km`, cross-correlated between variables; the same numbers for a cell whatever the
    number of MPI ranks. The defaults are SMAP Level-4's (Reichle et al. 2017) with an air
    temperature of 1 K added; `length_km` shorter than a grid cell gives nearly white fields."""

    enabled: bool = key(False, "Perturb the forcing (weather generator or files) of the run.")
    seed: int = key(1, "Seed of the perturbations.", lo=0)
    member: int = key(0, "Ensemble member: members of one seed get independent "
                         "perturbations (0 for a single run).", lo=0)
    step_hours: int = key(3, "Time step of the AR(1) processes, hours; a perturbation is "
                             "constant over a step (SMAP Level-4: 3).", lo=1, hi=24)
    time_scale_hours: float = key(24.0, "e-folding time of the AR(1) temporal correlation, "
                                        "hours (SMAP Level-4: 24).", lo=0.0, lo_open=True)
    length_km: float = key(50.0, "Length scale L of the spatial correlation "
                                 "exp(-d^2 / (2 L^2)), km (SMAP Level-4: 50 km on a 9 km "
                                 "grid).", lo=0.0, lo_open=True)
    precipitation_std: float = key(0.5, "Standard deviation of the log of the precipitation "
                                        "factor (SMAP Level-4: 0.5).", lo=0.0, hi=3.0)
    shortwave_std: float = key(0.3, "Standard deviation of the log of the shortwave factor "
                                    "(SMAP Level-4: 0.3).", lo=0.0, hi=3.0)
    longwave_std: float = key(20.0, "Standard deviation of the additive longwave "
                                    "perturbation, W m-2 (SMAP Level-4: 20).", lo=0.0,
                              hi=200.0)
    air_temperature_std: float = key(1.0, "Standard deviation of the additive air-temperature "
                                          "perturbation, K.", lo=0.0, hi=20.0)
    correlations: list = key([-0.8, 0.5, 0.0, -0.5, 0.4, 0.4],
                             "Cross-correlations of the four perturbations, in the order "
                             + ", ".join(PERTURBED_PAIRS) + " (SMAP Level-4 for the first, "
                             "second and fourth); the matrix must be positive definite.")


@dataclass(frozen=True)
class EnsembleSettings:
    """The ensemble run of `landia cycle` (docs/ensemble.md): `members` copies of the columns
    stepped together on every rank, each with its own perturbed forcing (the `[perturbation]`
    section, member `perturbation.member + m`) and optionally perturbed soil texture, analysed
    by a local ensemble transform Kalman filter (LETKF) or the ensemble-variational hybrid."""

    enabled: bool = key(False, "Run an ensemble (needs `[perturbation] enabled = true`).")
    members: int = key(20, "Number of members N (CoLM202X: 20).", lo=2, hi=1000)
    analysis: str = key("letkf", "'letkf' (the LETKF on every rank for its own cells), "
                                 "'hybrid' (the 3D-Var of analysis.terms, image, point or "
                                 "both, on the ensemble mean with B variances from the "
                                 "spread, the LETKF for the perturbations, members "
                                 "recentred on the 3D-Var analysis) or 'none' (an ensemble "
                                 "open loop).",
                        choices=("letkf", "hybrid", "none"))
    localisation_km: float = key(40.0, "Gaspari-Cohn half-width c of the LETKF's "
                                       "R-localisation, km (the weight is 0 beyond 2c; "
                                       "CoLM202X: 40 km). 0: no localisation (every "
                                       "observation, weight 1; TOML has no finite inf).",
                                 lo=0.0)
    inflation: str = key("rtps", "Inflation of the analysis perturbations: 'rtps' (relaxation "
                                 "to prior spread, Whitaker and Hamill 2012), 'rtpp' (to prior "
                                 "perturbations) or 'none'.",
                         choices=("rtps", "rtpp", "none"))
    inflation_factor: float = key(0.5, "alpha of the inflation, in [0, 1] (0: none).",
                                  lo=0.0, hi=1.0)
    prior_inflation: float = key(
        1.0, "Multiplicative prior inflation rho >= 1 of the LETKF: the background "
             "perturbations of a cell with observations scaled by sqrt(rho) before its analysis "
             "(PETSc's LETKF inflation); RTPS/RTPP relax towards the inflated ones. With "
             "adaptive_inflation, the starting value of every cell's estimate.",
        lo=1.0, hi=10.0)
    adaptive_inflation: bool = key(
        False, "Estimate the prior inflation per land cell at every analysis from the LETKF's "
               "own innovations (Desroziers' E[d d^T] = rho H Pb H^T + R per cell, localised; "
               "the Gaussian update of Li et al. 2009 and Miyoshi 2011) and carry it to the "
               "next analysis (and in the checkpoint), from prior_inflation, within [1, 10]: "
               "the inflation is then not a guess (docs/ensemble.md). false: prior_inflation "
               "everywhere.")
    adaptive_inflation_std: float = key(
        0.1, "adaptive_inflation: sigma_b, the standard deviation of the carried inflation's "
             "prior at each analysis; larger follows each analysis' estimate faster and more "
             "noisily. 0.1 was best for daily analyses in the demo (Miyoshi 2011's 0.04, for "
             "6-hourly ones, moved 1.0 only to 1.1 in 40 days; 0.3 over-inflated; "
             "docs/ensemble.md).", lo=0.0, hi=10.0, lo_open=True)
    texture_std: float = key(0.0, "Standard deviation of each member's sand and clay "
                                  "perturbation, percentage points (0: the same soil for every "
                                  "member).", lo=0.0, hi=50.0)
    hybrid_weight: float = key(
        0.5, "hybrid: weight beta of the ensemble in B's variances, D = (1 - beta) "
             "analysis.background_error_variance + beta (ensemble variance); 1: the ensemble's "
             "alone, 0: the static ones (the centre is still the 3D-Var of the ensemble mean). "
             "0.5 was best in the demo (surface SCC 0.844 against 0.804 at 1 and 0.839 at 0; "
             "docs/ensemble.md).",
        lo=0.0, hi=1.0)
    diagnose_correlation_length: bool = key(
        False, "hybrid: B's correlation length (analysis.correlation_length_km) diagnosed from "
               "the members' top-layer perturbations at each analysis, fitted to the diffusion "
               "correlation model (docs/ensemble.md).")
    update_layers: int = key(
        0, "Layers, from the top, whose soil moisture the LETKF updates: its weights, computed "
           "from the observations of the top analysis.layers layers, move the deeper layers "
           "too, through the members' covariances between them (as SMAP Level 4's EnKF reaches "
           "the root zone; CoLM202X's LETKF updates layers 1-2 only). The hybrid's 3D-Var recentres the top "
           "analysis.layers; deeper layers keep the LETKF's members. 0: analysis.layers "
           "(docs/ensemble.md).", lo=0, hi=10)
    image_error_from_members: bool = key(
        False, "hybrid: JI's image-error variance per curvelet scale from the members' spread "
               "of P C E at each analysis (Bai et al. 2026), instead of "
               "analysis.image_error_variance (docs/ensemble.md).")


#: The default ``[serve] launcher``: the cycle job up to the analysis time ``{end}``.
DEFAULT_LAUNCHER = ("mpirun -n {ranks} landia cycle --config {config} --run-dir {run_dir} "
                    "--end {end}")
#: The tokens of a ``[serve] launcher`` template (docs/serve.md, "The launcher contract").
LAUNCH_TOKENS = ("ranks", "config", "run_dir", "end", "stamp", "obs")


@dataclass(frozen=True)
class ServeSettings:
    """The near-real-time scheduler, `landia serve` (docs/serve.md). Only a serve file has this
    section; a file that has it must give the keys marked required. Relative paths are
    relative to the file's folder, except `observations` (relative to `run_dir`)."""

    run_dir: str = key("", "Run directory of the cycled run (`landia cycle --run-dir`).",
                       required=True)
    cycle_config: str = key("", "The landia configuration that `landia cycle` runs; its "
                                "[cycle] section gives the clock.", required=True)
    incoming: str = key("", "Folder where observation files arrive.", required=True)
    observations: str = key("", "The run's observation folder, relative to `run_dir`; empty: "
                                "the cycle config's `cycle.observations` (one of the two "
                                "must be set).")
    pattern: str = key("obs_{stamp}.nc", "Name of an incoming file; must contain `{stamp}`, "
                                         "which is `YYYYMMDDTHHMM` (UTC).")
    completion: str = key("rename", "When an incoming file counts as complete: 'rename' (it has "
                                    "its final name), 'marker' (`<name>.done` exists beside "
                                    "it) or 'stable' (unmodified for `stable_seconds`).",
                          choices=("rename", "marker", "stable"))
    stable_seconds: float = key(30.0, "completion = 'stable': unmodified (mtime) for this many "
                                      "real seconds.", lo=0.0)
    first_analysis: str = key("", "First analysis time served, ISO date-time, UTC; empty: the "
                                  "first one after `cycle.start`.")
    end: str = key("", "Last analysis time served (inclusive), ISO date-time, UTC; serve then "
                       "exits 0. Empty: run forever.")
    window_hours: int = key(0, "0: the cycle config's `cycle.window_hours`; any other value "
                               "must equal it.", lo=0, hi=240)
    analysis_hours: list = key([], "Empty: the cycle config's `cycle.analysis_hours`; "
                                   "otherwise they must equal them.",
                               choices=tuple(range(24)))
    cutoff_minutes: float = key(180.0, "How long after an analysis time to wait for its file "
                                       "before running model-only with a `missing_feed` "
                                       "alert.", lo=0.0)
    launcher: Union[str, list] = key(
        DEFAULT_LAUNCHER, "Command template, a string split like a shell does or a list of "
                          "arguments, run without a shell; tokens `{ranks}` `{config}` "
                          "`{run_dir}` `{end}` `{stamp}` `{obs}` (docs/serve.md).")
    ranks: int = key(4, "The `{ranks}` token of the launcher.", lo=1)
    poll_seconds: float = key(60.0, "How often the incoming folder is looked at while "
                                    "waiting.", lo=0.001)
    max_attempts: int = key(3, "Launches of one analysis time before a `launch_failed` alert.",
                            lo=1)
    retry_seconds: float = key(60.0, "Wait before the 2nd attempt; doubled for each further "
                                     "one.", lo=0.0)
    on_failure: str = key("stop", "After `max_attempts`: 'stop' (exit 1; a restart retries the "
                                  "same time) or 'continue' (the next launch also runs the "
                                  "failed cycle).", choices=("stop", "continue"))
    launch_timeout_minutes: float = key(0.0, "Kill a launch (its process group) after this "
                                             "long, counted as a failure (status 124); 0: "
                                             "never.", lo=0.0)
    state_dir: str = key("", "Folder of the state, status, lock, alerts and job logs; empty: "
                             "`<run_dir>/serve`.")
    status_file: str = key("", "Empty: `<state_dir>/status.json`.")
    lock_file: str = key("", "Empty: `<state_dir>/serve.lock`.")
    alerts_file: str = key("", "Empty: `<state_dir>/alerts.jsonl`.")

    @property
    def launcher_template(self) -> str:
        """``launcher`` as one command line (a list of arguments joined as a shell quotes)."""
        if isinstance(self.launcher, str):
            return self.launcher
        return shlex.join(str(a) for a in self.launcher)

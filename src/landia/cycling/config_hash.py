"""The configuration hash of a cycling run: which settings determine its results.

A checkpoint records the hash of the configuration that wrote it; a run resumes only from a
checkpoint of its own hash (:mod:`landia.checkpoint`, :mod:`landia.cycling.run_dir`). Keys
added after the hash's first format are left out at the value that gives the earlier
behaviour, so upgrading landia does not orphan the checkpoints of runs that do not use them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from landia.config import Settings

#: Settings that may change between the starts of one run without changing its results.
HASH_EXCLUDED = {("cycle", "end"), ("cycle", "keep_checkpoints")}
#: Sections that never change a run's results (how it logs, how it is scheduled).
HASH_EXCLUDED_SECTIONS = ("logging", "serve")
#: Keys added after the hash's first format, with the value that gives the earlier behaviour:
#: at that value a key is left out of the hash, so a run that pins the earlier behaviour keeps
#: its hash (and its checkpoints) across the upgrade; any other value changes the hash.
HASH_NEUTRAL = {
    ("observations", "rescaling"): "none",
    ("cycle", "hydraulics"): "clapp_hornberger",
    ("observations", "climatology"): "",
    ("observations", "min_climatology_samples"): 30,
    # The diagonal B and JI on observed cells (the default 300 km changes the hash).
    ("analysis", "correlation_length_km"): 0.0,
    ("analysis", "correlation_steps"): 4,
    ("analysis", "image_gap_weight"): 0.0,
    # One fixed image-error variance for every scale, no withheld observations, the stated
    # observation error, the paper's hybrid (the earlier defaults).
    ("analysis", "image_error_method"): "fixed", ("analysis", "image_error_bands"): "scale",
    ("analysis", "image_error_memory"): 0.5,
    ("analysis", "image_error_floor"): 4.0e-4,
    ("analysis", "image_error_cap"): 0.1,
    ("analysis", "local_image_error"): False, ("analysis", "image_error_window"): 2.0,
    ("analysis", "hybrid_split"): False, ("observations", "valid_time_tolerance_minutes"): 30.0,
    ("observations", "offset_correction"): "none", ("observations", "offset_memory"): 0.9,
    ("observations", "withhold_fraction"): 0.0, ("observations", "withhold_seed"): 0,
    ("landscape", "file"): "", ("cycle", "initial_state"): "",  # synthetic, default state
    ("grid", "from_landscape"): False,  # the box grid
    ("curvelet", "fft_shape"): False,  # the smallest UDCT transform shape
    ("analysis", "distribute"): False,  # the joint analysis on the root
    ("observations", "cdf_error_scaling"): "local_slope",  # CDF matching's error factor
    ("ensemble", "update_layers"): 0,  # the LETKF updates the analysed layers only
    ("analysis", "vertical_length_m"): 0.0,  # no increment below the analysed layers
    ("analysis", "vertical_carry"): "increment",  # the whole increment carried down
    ("ensemble", "adaptive_inflation"): False,  # prior_inflation everywhere, fixed
}
#: Keys that matter only when another key has a given value: otherwise left out of the hash,
#: so that a run they cannot affect keeps its hash. ``cdf_error_scaling`` (default
#: ``std_ratio`` since 2026-12-03) acts only with CDF matching, where the earlier behaviour
#: was the local slope (its neutral value above).
HASH_ONLY_WITH = {
    ("observations", "cdf_error_scaling"): ("observations", "rescaling", "cdf"),
    ("ensemble", "adaptive_inflation_std"): ("ensemble", "adaptive_inflation", True),
}
#: Keys that act only through the image term JI: in a run where JI takes no part they are
#: hashed at their first-format default (the value; for the later keys their neutral value,
#: which leaves them out), whatever they hold, so that a change of their default
#: (``curvelet.sigma``: 0.5, the paper's, until 2026-12-03, then 1) or a setting common to
#: every run of an experiment (the demo's estimated image-error variances) orphans only the
#: checkpoints of the runs whose analysis it changes.
HASH_IMAGE_TERM_ONLY = {("curvelet", "sigma"): 0.5,
                        # the variances' estimate (JI's own statistics)
                        ("analysis", "image_error_method"): "fixed",
                        ("analysis", "image_error_bands"): "scale",
                        ("analysis", "image_error_memory"): 0.5,
                        ("analysis", "image_error_floor"): 4.0e-4,
                        ("analysis", "image_error_cap"): 0.1}
#: Sections added after the hash's first format that change nothing while their ``enabled`` key
#: is false: then the whole section is left out of the hash (whatever its other keys say).
HASH_SWITCHED_SECTIONS = ("perturbation", "ensemble")


def config_hash(settings: Settings) -> str:
    """SHA-256 of the settings that determine a run's results (not ``cycle.end``,
    ``cycle.keep_checkpoints``, ``[logging]`` or ``[serve]``; keys of :data:`HASH_NEUTRAL` at
    their neutral value, keys of :data:`HASH_ONLY_WITH` where they cannot act and sections of
    :data:`HASH_SWITCHED_SECTIONS` switched off neither; keys of
    :data:`HASH_IMAGE_TERM_ONLY` at their first-format value where JI takes no part), as
    ``sha256:<hex>``."""
    raw = dataclasses.asdict(settings)
    for section in HASH_EXCLUDED_SECTIONS:
        raw.pop(section, None)
    for section, key in HASH_EXCLUDED:
        raw.get(section, {}).pop(key, None)
    # 'auto' hashed as what it resolves to: a run it leaves off keeps the hash of false (the
    # neutral value), one it turns on the hash of an explicit true
    raw["analysis"]["local_image_error"] = settings.local_image_error_on
    # image_error_method 'auto' (the default since 2026-12-04) hashed as what it resolves to,
    # so a run with a correlated B keeps the hash of 'desroziers', the default before it
    raw["analysis"]["image_error_method"] = settings.analysis.image_error_method_used
    # hybrid_split (default true since 2026-12-03) acts only in a hybrid whose JI takes part:
    # elsewhere hashed at false, the earlier default (neutral), so no other run changes hash
    raw["analysis"]["hybrid_split"] = settings.hybrid_split_on
    # image_error_floor 'variance' (the default since 2026-12-03) hashed as the number it
    # stands for where an estimated variance can reach it, so that a run that gave the same
    # floor as a number keeps its hash; where nothing is estimated it cannot act and is
    # hashed at the earlier default (neutral)
    analysis = settings.analysis
    if analysis.image_error_floor == "variance":
        raw["analysis"]["image_error_floor"] = (
            analysis.image_error_floor_value if settings.image_error_estimated
            else HASH_NEUTRAL[("analysis", "image_error_floor")])
    # update_layers at or below analysis.layers updates the analysed layers: the earlier
    # behaviour, hashed at 0 (neutral)
    updated = settings.ensemble.update_layers
    raw["ensemble"]["update_layers"] = updated if updated > analysis.layers else 0
    if not settings.image_term_acts:
        for (section, key), value in HASH_IMAGE_TERM_ONLY.items():
            if key in raw.get(section, {}):
                raw[section][key] = value
    for (section, key), (other_section, other, value) in HASH_ONLY_WITH.items():
        if raw.get(other_section, {}).get(other) != value:
            raw.get(section, {}).pop(key, None)
    for (section, key), neutral in HASH_NEUTRAL.items():
        if section in raw and key in raw[section] and raw[section][key] == neutral:
            del raw[section][key]
    for section in HASH_SWITCHED_SECTIONS:
        if section in raw and not raw[section].get("enabled", True):
            del raw[section]
    raw = {section: keys for section, keys in raw.items() if keys != {}}  # all neutral
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

"""The runs of the embedded experiment: name -> label, cost terms, observation set and the
cycle settings in which a run differs from the others (see :mod:`.demo_run` for the table and
the experiment it makes up).

Its own module, below both the experiment (:mod:`.demo_run`, which launches the runs) and its
report (:mod:`.report`, which draws them), so that each reads the one definition.
"""

from __future__ import annotations

RUNS = {
    "truth": {"label": "truth", "terms": [], "observations": None,
              "cycle": {"mode": "ctrl", "precipitation_seed": 2, "texture_seed": 12}},
    "ctrl": {"label": "CTRL (no assimilation)", "terms": [], "observations": None,
             "cycle": {"mode": "ctrl"}},
    "image": {"label": "image DA (JB+JI)", "terms": ["background", "image"],
              "observations": "obs"},
    "point": {"label": "point DA (JB+JO)", "terms": ["background", "point"],
              "observations": "obs"},
    "hybrid": {"label": "hybrid DA (JB+JO+JI)", "terms": ["background", "point", "image"],
               "observations": "obs"},
    "image_misspecified": {"label": "image DA, misspecified obs error",
                           "terms": ["background", "image"],
                           "observations": "obs_misspecified"},
    "point_misspecified": {"label": "point DA, misspecified obs error",
                           "terms": ["background", "point"],
                           "observations": "obs_misspecified"},
}

"""Configuration loading: every kind of mistake names the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from landia.config import Settings, describe_keys, load_settings, settings_from_dict
from landia.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_defaults_and_a_full_file(tmp_path):
    s = load_settings(write(tmp_path, """
[analysis]
layers = 2
terms = ["background", "point", "image"]
image_error_variance = 1.0
upper_bound = 0.5
[curvelet]
sigma = 0.1
scales = 3
[minimiser]
backend = "scipy"
gttol = 1e-8
[logging]
format = "json"
"""))
    assert s.analysis.layers == 2 and s.analysis.upper_bound == 0.5
    assert s.curvelet.sigma == 0.1 and s.minimiser.backend == "scipy"
    assert Settings().analysis.terms == ["background", "image"]
    assert isinstance(load_settings(write(tmp_path, "[curvelet]\nsigma = 1\n")).curvelet.sigma, float)


@pytest.mark.parametrize("text, words", [
    ("[analysis]\nlayer = 3\n", ["analysis.layer", "unknown key", "layers"]),
    ("[analyses]\nlayers = 3\n", ["unknown section", "[analyses]"]),
    ("[analysis]\nlayers = 'three'\n", ["analysis.layers", "expected an integer"]),
    ("[analysis]\nlayers = 3.5\n", ["analysis.layers", "expected an integer"]),
    ("[analysis]\nlayers = 0\n", ["analysis.layers", ">= 1"]),
    ("[curvelet]\nsigma = 1.5\n", ["curvelet.sigma", "<= 1.0"]),
    ("[curvelet]\nsigma = 0\n", ["curvelet.sigma", "> 0.0"]),
    ("[curvelet]\nwedges = 4\n", ["curvelet.wedges", "multiple of 3"]),
    ("[analysis]\nterms = ['background', 'radar']\n", ["analysis.terms", "'radar'"]),
    ("[analysis]\nterms = []\n", ["analysis.terms", "at least one"]),
    ("[analysis]\nupper_bound = 'field'\n", ["analysis.upper_bound", "'porosity' or a number"]),
    ("[analysis]\nupper_bound = 0.0\n", ["analysis.upper_bound", "above"]),
    ("[analysis]\nimage_error_variance = -1\n", ["image_error_variance", "> 0.0"]),
    ("[analysis]\nimage_error_variance = nan\n", ["image_error_variance", "finite"]),
    ("[minimiser]\ntao_type = 'newton'\n", ["minimiser.tao_type", "blmvm"]),
    ("[minimiser]\nmax_iterations = true\n", ["minimiser.max_iterations", "expected"]),
    ("[logging]\nformat = 'xml'\n", ["logging.format", "'json'"]),
    ("analysis = 3\n", ["[analysis] must be a table"]),
    ("[analysis\nlayers = 3\n", ["not valid TOML"]),
])
def test_errors_name_the_key_and_what_was_expected(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    message = str(info.value)
    assert str(tmp_path / "c.toml") in message
    for w in words:
        assert w in message, message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_replace_validates():
    s = Settings().replace("curvelet", sigma=0.3)
    assert s.curvelet.sigma == 0.3
    with pytest.raises(ConfigError):
        Settings().replace("curvelet", sigma=3.0)


def test_every_key_is_documented_and_docs_are_current():
    text = describe_keys()
    for section in ("analysis", "curvelet", "minimiser", "logging"):
        assert f"## [{section}]" in text
    for key in ("image_error_variance", "sigma", "tao_type", "gttol", "petsc_options"):
        assert f"`{key}`" in text
    doc = ROOT / "docs" / "configuration.md"
    assert doc.read_text() == text + "\n", (
        "docs/configuration.md is out of date: regenerate with "
        "`landia config-keys > docs/configuration.md`")


def test_shipped_example_configs_are_valid():
    configs = sorted((ROOT / "src" / "landia" / "configs").glob("*.toml"))
    assert configs
    for path in configs:
        load_settings(path)


def test_cycle_section_times_are_checked():
    from landia.config import settings_from_dict

    s = settings_from_dict({"cycle": {"start": "2016-05-01T00:00", "end": "2016-05-02T00:00",
                                      "analysis_hours": [0, 12]}})
    assert s.cycle.window_hours == 6 and s.cycle.analysis_hours == [0, 12]
    for bad, match in (({"start": "May 1st"}, "cycle.start: expected an ISO"),
                       ({"end": "2016-04-30T00:00"}, "cycle.end: expected a time after"),
                       ({"end": "2016-05-03T01:00"}, "whole number of 6 h windows"),
                       ({"analysis_hours": [24]}, "cycle.analysis_hours"),
                       ({"mode": "3dvar"}, "cycle.mode")):
        with pytest.raises(ConfigError, match=match):
            settings_from_dict({"cycle": bad})

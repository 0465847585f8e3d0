"""Configuration loading: every kind of mistake names the key and what was expected."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from landia.cli import main
from landia.config import Settings, describe_keys, load_settings, read_toml, settings_from_dict
from landia.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


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
image_error_method = "fixed"
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
    assert s.analysis.image_error_floor_value == 1.0  # 'variance', with nothing estimated
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
    ("[analysis]\nimage_error_floor = 'stated'\n",
     ["analysis.image_error_floor", "'variance' or a number"]),
    ("[analysis]\nimage_error_variance = 0.2\n",
     ["analysis.image_error_cap", "image_error_variance=0.2", "image_error_method = 'fixed'"]),
    ("[analysis]\nimage_error_floor = 0.2\n", ["analysis.image_error_cap", "floor=0.2"]),
    ("[analysis]\nimage_error_variance = -1\n", ["image_error_variance", "> 0.0"]),
    ("[analysis]\nimage_error_variance = nan\n", ["image_error_variance", "finite"]),
    ("[minimiser]\ntao_type = 'newton'\n", ["minimiser.tao_type", "blmvm"]),
    ("[minimiser]\nmax_iterations = true\n", ["minimiser.max_iterations", "expected"]),
    ("[logging]\nformat = 'xml'\n", ["logging.format", "'json'"]),
    ("[observations]\nrescaling = 'cdf'\n", ["observations.climatology", "required", "'cdf'"]),
    ("[observations]\nrescaling = 'quantile'\n", ["observations.rescaling", "'anomaly'"]),
    ("[observations]\nmin_climatology_samples = 1\n", ["min_climatology_samples", ">= 2"]),
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


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[cycle]\n# \xe9t\xe9 2016\nstart = "2016-05-01T00:00"\n')
    with pytest.raises(ConfigError, match=r"latin1\.toml: configuration file is not UTF-8 "
                                          r"text: byte 10 \(line 2\) is b'\\xe9'"):
        load_settings(path)
    with pytest.raises(ConfigError, match=r"latin1\.toml: serve configuration file is not UTF-8"):
        read_toml(path, "serve configuration file")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr()
    lines = [x for x in (err.out + err.err).splitlines() if x.strip()]
    assert len(lines) == 1 and "UnicodeDecodeError" not in lines[0] and "byte 10" in lines[0]


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


SERVE_FILE = """\
[serve]
run_dir = "run"
cycle_config = "cycle.toml"
incoming = "incoming"
completion = "marker"
analysis_hours = [0, 12]
launcher = ["mpirun", "-n", "{ranks}", "landia", "cycle", "--end", "{end}"]
cutoff_minutes = 90
"""


def test_a_serve_file_validates(tmp_path, capsys):
    """`landia validate SERVE.toml` checks a serve file like any configuration."""
    s = load_settings(write(tmp_path, SERVE_FILE))
    assert s.serve.run_dir == "run" and s.serve.completion == "marker"
    assert s.serve.analysis_hours == [0, 12] and s.serve.cutoff_minutes == 90.0
    assert isinstance(s.serve.cutoff_minutes, float) and s.serve.ranks == 4
    assert shlex.split(s.serve.launcher_template) == s.serve.launcher  # quoted, then split
    (tmp_path / "cycle.toml").write_text('[cycle]\nanalysis_hours = [0, 12]\n'
                                         'observations = "obs"\n')
    assert main(["validate", str(tmp_path / "c.toml")]) == 0
    assert "valid landia configuration" in capsys.readouterr().out


def test_a_serve_file_is_checked_against_its_cycle_configuration(tmp_path, capsys):
    """`landia validate` reads a serve file as `landia serve` does: the cycle configuration
    it names must exist and agree with it."""
    path = write(tmp_path, SERVE_FILE)
    assert main(["validate", str(path)]) == 2                       # no cycle.toml
    (tmp_path / "cycle.toml").write_text('[cycle]\nanalysis_hours = [0, 6, 12, 18]\n'
                                         'observations = "obs"\n')
    assert main(["validate", str(path)]) == 2                       # other analysis hours
    assert "valid landia configuration" not in capsys.readouterr().out


def test_a_run_configuration_has_no_serve_section(tmp_path):
    """[serve] keys are required only in a file that has the table: run configurations,
    the shipped ones included, stay valid and have no serve section."""
    assert load_settings(write(tmp_path, "[cycle]\nwindow_hours = 6\n")).serve is None
    assert Settings().serve is None and load_settings("image3dvar").serve is None
    assert Settings().replace("curvelet", sigma=0.3).serve is None
    assert "## [serve]" in describe_keys() and "| `run_dir` | *required* |" in describe_keys()


@pytest.mark.parametrize("change, words", [
    (("completion", "completion = 'stabel'"), ["serve.completion", "'stable'"]),
    (("cutoff_minutes", "cutof_minutes = 90"),
     ["serve.cutof_minutes", "unknown key", "did you mean 'cutoff_minutes'?"]),
    (("incoming", ""), ["serve.incoming", "required key missing",
                        "run_dir, cycle_config, incoming"]),
    (("cutoff_minutes", "cutoff_minutes = -1"), ["serve.cutoff_minutes", ">= 0.0"]),
    (("cutoff_minutes", "ranks = 0"), ["serve.ranks", ">= 1"]),
    (("cutoff_minutes", "ranks = '4'"), ["serve.ranks", "expected an integer"]),
    (("analysis_hours", "analysis_hours = [0, 24]"), ["serve.analysis_hours", "24"]),
    (("launcher", "launcher = 4"), ["serve.launcher", "a string or a list"]),
    (("launcher", "launcher = 'run {nope}'"), ["serve.launcher", "bad template", "{end}"]),
    (("cutoff_minutes", "pattern = 'obs.nc'"), ["serve.pattern", "{stamp}"]),
    (("cutoff_minutes", "end = 'tomorrow'"), ["serve.end", "ISO date-time"]),
    (("cutoff_minutes", "on_failure = 'retry'"), ["serve.on_failure", "'continue'"]),
])
def test_serve_errors_name_the_key_and_what_was_expected(tmp_path, change, words):
    key, line = change
    text = "".join(l + "\n" if not l.startswith(key) else (line + "\n" if line else "")
                   for l in SERVE_FILE.splitlines())
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    message = str(info.value)
    assert str(tmp_path / "c.toml") in message
    for w in words:
        assert w in message, message


def test_toml_is_read_in_one_place():
    """Every TOML file goes through landia.config.read_toml, which has the Python 3.10
    fallback (tomli): no other module imports tomllib."""
    home = ROOT / "src" / "landia" / "config" / "__init__.py"
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "src").rglob("*.py"))
                 if p != home and any(line.strip().startswith(("import tomllib", "from tomllib",
                                                               "import tomli", "from tomli"))
                                      for line in p.read_text().splitlines())]
    assert offenders == [], f"import tomllib outside landia/config: use read_toml ({offenders})"


def test_read_toml_names_the_file(tmp_path):
    assert read_toml(write(tmp_path, "[serve]\nranks = 2\n")) == {"serve": {"ranks": 2}}
    with pytest.raises(ConfigError, match=r"absent.toml: serve configuration file not found"):
        read_toml(tmp_path / "absent.toml", "serve configuration file")
    with pytest.raises(ConfigError, match=r"c.toml: not valid TOML"):
        read_toml(write(tmp_path, "[serve\n"))


# -- [ensemble] ------------------------------------------------------------------------------

def test_ensemble_section_defaults_and_validation():
    e = Settings().ensemble
    assert (e.enabled, e.members, e.analysis, e.inflation) == (False, 20, "letkf", "rtps")
    on = {"perturbation": {"enabled": True}, "ensemble": {"enabled": True, "members": 4}}
    assert settings_from_dict(on).ensemble.members == 4
    with pytest.raises(ConfigError, match="ensemble.members"):
        settings_from_dict({"ensemble": {"members": 1}})
    with pytest.raises(ConfigError, match="ensemble.analysis"):
        settings_from_dict({"ensemble": {"analysis": "enkf"}})
    with pytest.raises(ConfigError, match="ensemble.inflation_factor"):
        settings_from_dict({"ensemble": {"inflation_factor": 1.5}})


def test_an_ensemble_needs_perturbed_forcing_and_its_hybrid_the_3dvar_terms():
    with pytest.raises(ConfigError, match=r"ensemble.enabled.*perturbation.enabled"):
        settings_from_dict({"ensemble": {"enabled": True}})
    hybrid = {"perturbation": {"enabled": True}, "analysis": {"terms": ["point"]},
              "ensemble": {"enabled": True, "analysis": "hybrid"}}
    with pytest.raises(ConfigError, match=r"'hybrid'.*missing background"):
        settings_from_dict(hybrid)
    with pytest.raises(ConfigError, match=r"'hybrid'.*missing point or image"):
        settings_from_dict({**hybrid, "analysis": {"terms": ["background"]}})
    for terms in (["background", "image"], ["background", "point"],
                  ["background", "point", "image"]):  # the centre's 3D-Var: any of them
        settings_from_dict({**hybrid, "analysis": {"terms": terms}})
    # switched off, the section asks nothing
    settings_from_dict({"ensemble": {"enabled": False, "analysis": "hybrid"},
                        "analysis": {"terms": ["point"]}})


def test_update_layers_is_checked_against_the_analysed_layers():
    on = {"perturbation": {"enabled": True}, "analysis": {"layers": 3}}
    for value, updated in ((0, 3), (3, 3), (5, 5), (10, 10)):
        s = settings_from_dict({**on, "ensemble": {"enabled": True, "update_layers": value}})
        assert s.ensemble_update_layers == updated
    with pytest.raises(ConfigError, match=r"ensemble.update_layers = 2 would update fewer "
                                          r"layers than the 3 analysed.*expected 0"):
        settings_from_dict({**on, "ensemble": {"enabled": True, "update_layers": 2}})
    with pytest.raises(ConfigError, match="ensemble.update_layers"):
        settings_from_dict({**on, "ensemble": {"enabled": True, "update_layers": 11}})


def test_the_cycled_observation_offset_keys_are_checked():
    s = settings_from_dict({"observations": {"offset_correction": "cycled",
                                             "offset_memory": 0.8}})
    assert s.observations.offset_correction == "cycled" and s.observations.offset_memory == 0.8
    with pytest.raises(ConfigError, match="offset_correction"):
        settings_from_dict({"observations": {"offset_correction": "climatology"}})
    with pytest.raises(ConfigError, match="offset_memory"):
        settings_from_dict({"observations": {"offset_memory": 1.0}})


def test_choices_match_the_domain_modules():
    """config/ does not import observations/ (the layers' rule), so the choices of these keys
    are written twice; this keeps the two lists the same."""
    from dataclasses import fields

    from landia.config.sections import ObservationSettings
    from landia.observations import rescaling, vertical

    def choices(cls, name):
        return tuple(next(f for f in fields(cls) if f.name == name).metadata["choices"])

    assert choices(ObservationSettings, "rescaling") == ("none",) + rescaling.METHODS
    assert choices(ObservationSettings, "cdf_error_scaling") == rescaling.CDF_ERROR_SCALINGS
    assert choices(ObservationSettings, "vertical") == vertical.METHODS

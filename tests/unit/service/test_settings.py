"""``landia serve``'s settings: the declared [serve] section resolved against the cycle config."""

from __future__ import annotations

import pytest

from landia.config import load_settings
from landia.errors import ConfigError
from landia.service import load_serve_settings
from tests.unit.service.serve_case import CYCLE, SERVE, settings_for


def test_settings_defaults_from_cycle_config(site):
    s = load_serve_settings(site / "serve.toml")
    assert s.window_hours == 6 and s.analysis_hours == (0, 6, 12, 18)
    assert str(s.first_analysis) == "2016-05-01T06:00:00"
    assert s.observations == site / "run" / "obs"
    assert s.status_file == site / "run" / "serve" / "status.json"
    assert "{end}" in s.launcher


@pytest.mark.parametrize("extra, match", [
    ("bogus = 1\n", "unknown"),
    ("window_hours = 3\n", "differs"),
    ('first_analysis = "2016-05-01T07:00"\n', "not an analysis time"),
    ('launcher = "run {nope}"\n', "bad template"),
    ('on_failure = "maybe"\n', "on_failure"),
    ('pattern = "obs.nc"\n', "stamp"),
])
def test_settings_errors(site, extra, match):
    with pytest.raises(ConfigError, match=match):
        settings_for(site, extra)


def test_settings_are_the_declared_section(site):
    """The loader checks [serve] as `landia validate` does (the same declarations): a
    missing required key, a file without the table, a misspelt key with a hint."""
    (site / "serve.toml").write_text(SERVE.replace('incoming = "incoming"\n', ""))
    with pytest.raises(ConfigError, match=r"serve.toml: serve.incoming: required key missing"):
        load_serve_settings(site / "serve.toml")
    (site / "serve.toml").write_text(CYCLE)
    with pytest.raises(ConfigError, match=r"serve.toml: no \[serve\] table \(keys: run_dir, "):
        load_serve_settings(site / "serve.toml")
    with pytest.raises(ConfigError, match=r"did you mean 'cutoff_minutes'\?"):
        settings_for(site, "cutof_minutes = 5\n")
    with pytest.raises(ConfigError, match=r"absent.toml: serve configuration file not found"):
        load_serve_settings(site / "absent.toml")
    s = settings_for(site, "stable_seconds = 5\nranks = 2\n")
    assert s.stable_seconds == 5.0 and isinstance(s.stable_seconds, float) and s.ranks == 2


def test_serve_table_in_the_cycle_config(site):
    """A run configuration may carry its own [serve] table: serve reads it, `landia cycle`
    accepts it, and it does not change the run's configuration hash (checkpoints)."""
    # here, not at the top: landia.cycling.run loads mpi4py.MPI (initialises MPI), and the
    # other serve tests run, as serve does, in a process without MPI
    from landia.cycling.run import config_hash

    (site / "both.toml").write_text(CYCLE + SERVE.replace('"cycle.toml"', '"both.toml"'))
    s = load_serve_settings(site / "both.toml")
    assert s.cycle_config == site / "both.toml" and s.observations == site / "run" / "obs"
    with_serve = load_settings(site / "both.toml")
    without = load_settings(site / "cycle.toml")
    assert with_serve.serve is not None and without.serve is None
    assert config_hash(with_serve) == config_hash(without)

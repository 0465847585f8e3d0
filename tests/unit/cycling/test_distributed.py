"""How a cycle spreads its analysis (``analysis.distribute``): the choice of path, the key's
values and its place in the configuration hash. The paths themselves run under mpirun
(tests/mpi/test_distributed_analysis.py, tests/mpi/test_wedge_exchange.py)."""

import pytest

from landia.config import settings_from_dict
from landia.cycling.config_hash import config_hash
from landia.cycling.distributed import distribution
from landia.errors import ConfigError


def _settings(**analysis):
    return settings_from_dict({"analysis": {"local_image_error": False, **analysis}})


def test_the_path_follows_the_key_and_the_ranks():
    assert distribution(_settings(), 2) is None
    assert distribution(_settings(distribute=False), 4) is None
    assert distribution(_settings(distribute=True), 1) == "layers"
    assert distribution(_settings(distribute=True), 2) == "layers"
    # local_image_error couples the layers: the joint analysis on the root
    assert distribution(_settings(distribute=True, local_image_error=True), 2) is None
    # and so does the default ('auto') with JI; point 3D-Var separates
    assert distribution(settings_from_dict({"analysis": {"distribute": True}}), 2) is None
    assert distribution(settings_from_dict({"analysis": {
        "distribute": True, "terms": ["background", "point"]}}), 2) == "layers"
    # the wedge split needs a second rank; with one the root's joint analysis is the same J
    assert distribution(_settings(distribute="wedges"), 1) is None
    assert distribution(_settings(distribute="wedges"), 2) == "wedges"
    assert distribution(_settings(distribute="wedges", local_image_error=True), 3) == "wedges"


@pytest.mark.parametrize("value", ["wedge", "layers", "true", 1])
def test_an_unknown_value_is_refused_with_the_accepted_ones(value):
    with pytest.raises(ConfigError, match="analysis.distribute") as info:
        _settings(distribute=value)
    assert "wedges" in str(info.value) or "true/false" in str(info.value)


def test_the_default_is_hash_neutral_and_the_other_paths_are_not():
    plain = config_hash(_settings())
    assert config_hash(_settings(distribute=False)) == plain
    hashes = {config_hash(_settings(distribute=v)) for v in (True, "wedges")}
    assert plain not in hashes and len(hashes) == 2

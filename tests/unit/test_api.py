"""``import landia`` as a notebook user calls it: write fields, analyse, read the result."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import landia
from tests.conftest import make_case

CONFIG = '[analysis]\nlayers = 2\nterms = ["background", "image"]\nupper_bound = "porosity"\n'


def test_analyse_from_files_and_from_fields_agree_with_the_analysis_file(tmp_path):
    bg, obs = make_case(shape=(32, 31))
    landia.write_field(tmp_path / "bg.nc", bg, "background")
    landia.write_field(tmp_path / "obs.nc", obs, "observation")
    (tmp_path / "c.toml").write_text(CONFIG)
    settings = landia.load_settings(tmp_path / "c.toml")
    from_files = landia.analyse(tmp_path / "bg.nc", tmp_path / "obs.nc", tmp_path / "c.toml",
                                output=tmp_path / "an.nc")
    in_memory = landia.analyse(landia.read_field(tmp_path / "bg.nc"), obs, settings)
    assert from_files.analysis_field.shape == (2, 32, 31)
    np.testing.assert_array_equal(from_files.analysis_field, in_memory.analysis_field)
    assert from_files.scores["analysis"]["layer1"]["scc"] > \
        from_files.scores["background"]["layer1"]["scc"]
    written = landia.read_analysis(tmp_path / "an.nc")
    np.testing.assert_allclose(np.ma.filled(written.analysis, np.nan),
                               from_files.analysis_field, rtol=1e-6, equal_nan=True)


def test_import_is_light_and_lists_the_interface():
    code = ("import sys, landia; print('numpy' in sys.modules, "
            "'landia.analysis' in sys.modules, callable(landia.analyse))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["False", "False", "True"], out.stderr
    assert {"analyse", "read_field", "write_field", "load_settings"} <= set(dir(landia))

"""Issue 14: every command that writes into a folder creates it, and every ``--output FILE``
creates its parent folder."""

from __future__ import annotations

import pytest

from landia.cli import main
from landia.io.fields import read_field, write_field
from tests.conftest import make_case
from tests.unit.commands.test_column import PREFIX, SITE

ERAI = "erainterim/ERAINT_AN_20000101_0000.nc"


@pytest.fixture
def case(tmp_path):
    bg, obs = make_case(shape=(32, 31))
    write_field(tmp_path / "bg.nc", bg, "background")
    write_field(tmp_path / "obs.nc", obs, "observation")
    (tmp_path / "c.toml").write_text('[analysis]\nlayers = 2\nterms = ["background", "image"]\n')
    return tmp_path


def test_analyse_creates_the_folder_of_its_output(case):
    out = case / "new" / "folder" / "an.nc"
    assert main(["analyse", "--config", str(case / "c.toml"), "--background",
                 str(case / "bg.nc"), "--obs", str(case / "obs.nc"), "--output", str(out)]) == 0
    assert out.is_file()


def test_estimate_b_creates_the_folder_of_its_output(case):
    backgrounds, observations = [], []
    for seed in range(3):
        bg, obs = make_case(shape=(16, 16), seed=seed)
        for field, role, files in ((bg, "background", backgrounds),
                                   (obs, "observation", observations)):
            files.append(case / f"{role}{seed}.nc")
            write_field(files[-1], field, role)
    out = case / "new" / "b.nc"
    assert main(["estimate-b", "--background", *map(str, backgrounds), "--obs",
                 *map(str, observations), "--min-times", "3", "--output", str(out)]) == 0
    assert read_field(out).values.shape[1:] == (16, 16)


@pytest.mark.shared_data
def test_column_creates_the_folder_of_its_output(shared_data, tmp_path):
    met, site = (shared_data / SITE / f"{PREFIX}{kind}.nc" for kind in ("Met", "site"))
    if not met.exists():
        pytest.skip(f"{met} is absent")
    out = tmp_path / "new" / "col.nc"
    assert main(["column", "--forcing", str(met), "--site", str(site), "--start", "2008-05-01",
                 "--end", "2008-05-02", "--output", str(out), "--no-progress"]) == 0
    assert out.is_file()


@pytest.mark.shared_data
def test_prepare_obs_creates_its_output_dir(shared_data, tmp_path):
    if not (shared_data / ERAI).exists():
        pytest.skip(f"{shared_data / ERAI} is absent")
    (tmp_path / "c.toml").write_text("[observations]\nmin_valid_cells = 10\n")
    out = tmp_path / "new" / "obs"
    assert main(["prepare-obs", "--product", str(shared_data / ERAI), "--config",
                 str(tmp_path / "c.toml"), "--output-dir", str(out)]) == 0
    assert (out / "obs_20000101T0000.nc").is_file()


def test_an_output_dir_that_cannot_be_made_is_a_clear_error(case, capsys):
    status = main(["prepare-obs", "--product", str(case / "obs.nc"), "--output-dir",
                   str(case / "c.toml" / "obs")])
    assert status == 2
    assert "cannot create the output directory" in capsys.readouterr().err

"""``--output`` is checked before the work (issue 13, item 7): never an input of the command,
never a directory, in an existing folder."""

from __future__ import annotations

import shutil

import pytest

from landia.cli import main
from landia.commands.outputs import check_output
from landia.errors import InputError
from landia.io.fields import write_field
from tests.conftest import make_case





def analyse(d, output, background="bg.nc", obs="obs.nc"):
    return main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / background),
                 "--obs", str(d / obs), "--output", str(output)])


@pytest.mark.parametrize("which", ["bg.nc", "obs.nc", "link-to-bg.nc"])
def test_analyse_refuses_to_overwrite_its_input(files, capsys, which):
    d = files
    (d / "link-to-bg.nc").symlink_to(d / "bg.nc")
    before = {name: (d / name).read_bytes() for name in ("bg.nc", "obs.nc")}
    background = "link-to-bg.nc" if which == "bg.nc" else "bg.nc"  # the link the other way
    assert analyse(d, d / which, background=background) == 2
    err = capsys.readouterr().err
    option = "--obs" if which == "obs.nc" else "--background"
    assert f"--output is the {option} file" in err and "would overwrite that input" in err
    assert len(err.strip().splitlines()) == 1
    assert {name: (d / name).read_bytes() for name in before} == before
    assert not list(d.glob(".*.tmp"))


def test_analyse_refuses_a_directory_before_computing(files, capsys):
    d = files
    (d / "out").mkdir()
    assert analyse(d, d / "out") == 2
    err = capsys.readouterr().err
    assert "--output is a directory" in err
    assert "analysis_start" not in err  # refused before the analysis, not after it
    assert list((d / "out").iterdir()) == []


def test_analyse_still_writes_an_ordinary_output_and_replaces_an_old_one(files):
    d = files
    (d / "an.nc").write_text("an old analysis")
    assert analyse(d, d / "an.nc") == 0
    assert (d / "an.nc").read_bytes().startswith(b"\x89HDF")


def test_check_output_rules(tmp_path):
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    a.write_text("a")
    b.write_text("b")
    (tmp_path / "hard.nc").hardlink_to(a)
    assert check_output(tmp_path / "new.nc", {"--in": [a, b]}) == tmp_path / "new.nc"
    assert check_output(b, {"--in": a, "--other": None}) == b  # an old output: replaced
    with pytest.raises(InputError, match=r"hard\.nc: --output is the --in file .*a\.nc"):
        check_output(tmp_path / "hard.nc", {"--in": [b, a]})
    new = tmp_path / "missing" / "deeper" / "x.nc"
    assert check_output(new, {}) == new and new.parent.is_dir()  # issue 14: folder created
    with pytest.raises(InputError, match="a.nc/x.nc: --output's folder .*cannot create the "
                                         "output directory"):
        check_output(a / "x.nc", {})  # its folder would be the file a.nc
    with pytest.raises(InputError, match="--result is a directory"):
        check_output(tmp_path, {}, option="--result")


def test_estimate_b_refuses_an_output_among_its_inputs(tmp_path, capsys):
    (tmp_path / "bg").mkdir()
    (tmp_path / "obs").mkdir()
    for i in range(3):
        bg, obs = make_case(shape=(16, 16), seed=i)
        write_field(tmp_path / "bg" / f"bg_{i}.nc", bg, "background")
        write_field(tmp_path / "obs" / f"obs_{i}.nc", obs, "observation")
    before = (tmp_path / "bg" / "bg_1.nc").read_bytes()
    assert main(["estimate-b", "--background", str(tmp_path / "bg"), "--obs",
                 str(tmp_path / "obs"), "--output", str(tmp_path / "bg" / "bg_1.nc")]) == 2
    assert "--output is the --background file" in capsys.readouterr().err
    assert (tmp_path / "bg" / "bg_1.nc").read_bytes() == before
    assert main(["estimate-b", "--background", str(tmp_path / "bg"), "--obs",
                 str(tmp_path / "obs"), "--min-times", "2", "--output",
                 str(tmp_path / "b.nc")]) == 0


@pytest.mark.shared_data
def test_column_refuses_to_overwrite_its_site_file(shared_data, tmp_path, capsys):
    folder = shared_data / "plumber2_CN-Cng"
    met = folder / "CN-Cng_2008-2009_FLUXNET2015_Met.nc"
    if not met.exists():
        pytest.skip(f"{folder} lacks the CN-Cng files")
    site = tmp_path / "site.nc"
    shutil.copy(folder / "CN-Cng_2008-2009_FLUXNET2015_site.nc", site)
    before = site.read_bytes()
    assert main(["column", "--forcing", str(met), "--site", str(site), "--start", "2008-05-01",
                 "--end", "2008-05-02", "--output", str(site), "--no-progress"]) == 2
    assert "--output is the --site file" in capsys.readouterr().err
    assert site.read_bytes() == before


@pytest.fixture
def files(case_files):
    return case_files

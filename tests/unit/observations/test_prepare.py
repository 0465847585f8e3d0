"""landia prepare-obs: real products to QC'd observation images on the paper grid."""

from __future__ import annotations

import json

import netCDF4
import numpy as np
import pytest

from landia.cli import main
from landia.config import Settings
from landia.io.fields import read_field
from landia.observations.prepare import prepare_observations

C3S = "c3s_sm/C3S-SOILMOISTURE-L3S-SSMV-COMBINED-{}.nc"
MAY = C3S.format("MONTHLY-20160501000000-TCDR-v201801.0.0")
DAILY = C3S.format("DAILY-20170701000000-ICDR-v201706.0.0")
ERAI = "erainterim/ERAINT_AN_20000101_0000.nc"


@pytest.fixture
def data(shared_data):
    if not (shared_data / MAY).exists():
        pytest.skip(f"{shared_data} lacks the C3S files")
    return shared_data


@pytest.mark.shared_data
def test_c3s_may_2016_on_the_paper_grid(data, tmp_path):
    images, failures = prepare_observations([data / MAY], Settings(), tmp_path)
    assert not failures and len(images) == 1
    im = images[0]
    assert im.land_cells == 991  # paper grid: one sea cell (Gulf of Ob)
    assert 0.96 <= im.valid_cells / im.land_cells <= 0.99  # issue 4: about 98 %
    obs = read_field(im.written, "observation")
    assert obs.valid_time == np.datetime64("2016-05-01T00:00:00")
    assert obs.values.shape == (3, 32, 31)
    top = obs.values[0][np.isfinite(obs.values[0])]
    assert 0.02 < top.min() and top.max() < 0.6 and 0.15 < top.mean() < 0.35
    # satellite 0-5 cm reaches the nodes of CoLM layers 1-2 (0.7, 2.8 cm), not layer 3 (6.2 cm)
    assert np.isfinite(obs.values[1]).sum() == im.valid_cells
    assert not np.isfinite(obs.values[2]).any()
    assert np.all(obs.error_variance[np.isfinite(obs.values)] > 0)
    with netCDF4.Dataset(im.written) as ds:
        qc = json.loads(ds.qc)
        assert ds.product == "c3s" and str(netCDF4.num2date(ds["time"][0], ds["time"].units)) == "2016-05-01 00:00:00"
    assert qc["valid"] == 2 * im.valid_cells and qc["product_fill"] > 0


@pytest.mark.shared_data
def test_flagged_retrievals_of_the_daily_file_are_counted(data, tmp_path):
    images, _ = prepare_observations([data / DAILY], Settings(), tmp_path)
    counts = images[0].counts
    flags = {k: v for k, v in counts.items() if k.startswith("product_flag_")}
    assert set(flags) >= {"product_flag_frozen_or_snow", "product_flag_dense_vegetation"}
    assert all(v > 0 for v in flags.values())


@pytest.mark.shared_data
def test_too_sparse_images_are_refused_and_unreadable_files_reported(data, tmp_path):
    bad = tmp_path / "truncated.nc"
    raw = (data / ERAI).read_bytes()
    bad.write_bytes(raw[: len(raw) // 3])
    out = tmp_path / "out"
    out.mkdir()
    settings = Settings().replace("observations", min_valid_cells=5000)
    images, failures = prepare_observations([data / ERAI, bad], settings, out)
    assert len(failures) == 1 and "truncated.nc" in failures[0]
    assert images[0].written is None and "min_valid_cells" in images[0].reason
    assert list(out.iterdir()) == []
    # the command line: same, exit status 2 because one file is unreadable
    cfg = tmp_path / "c.toml"
    cfg.write_text("[observations]\nmin_valid_cells = 10\n")
    status = main(["prepare-obs", "--product", str(data / ERAI), str(bad), "--config", str(cfg),
                   "--output-dir", str(out)])
    assert status == 2
    era = read_field(out / "obs_20000101T0000.nc", "observation")
    # ERA-Interim 0-7 cm covers the nodes of CoLM layers 1-3: all three observed (the paper)
    assert all(np.isfinite(era.values[k]).sum() == 991 for k in range(3))


def test_missing_product_path_is_a_clear_error(tmp_path):
    from landia.errors import InputError

    with pytest.raises(InputError, match="not found"):
        prepare_observations([tmp_path / "nope.nc"], Settings(), tmp_path)

"""QC of observation images on the model grid: every rejection counted, sparse images refused."""

import numpy as np
import pytest

from landia.observations.qc import REASONS, quality_control


def _image():
    rng = np.random.default_rng(1)
    land = np.ones((6, 8), dtype=bool)
    land[:, :2] = False
    v = rng.uniform(0.1, 0.4, (2, 6, 8))
    return v, land


def test_each_reason_is_counted_and_the_value_removed():
    v, land = _image()
    v[0, 0, 0] = 0.3            # off land: not_land
    v[0, 1, 3] = np.nan         # missing
    v[0, 2, 3] = -0.01          # below_lower_bound
    v[1, 2, 4] = 0.55           # above_upper_bound (upper 0.5)
    frac = np.ones((6, 8))
    frac[3, 5] = 0.2            # too_little_valid_area (both layers)
    var = np.full(v.shape, 4e-4)
    var[1, 4, 6] = 0.0          # bad_error_variance
    r = quality_control(v, land, upper=0.5, valid_fraction=frac, error_variance=var,
                        min_valid_cells=5, product_rejections={"flag_frozen_or_snow": 7})
    c = r.counts
    assert set(REASONS) <= set(c)
    assert c["not_land"] == 2 * 12 and c["missing"] == 1
    assert c["below_lower_bound"] == 1 and c["above_upper_bound"] == 1
    assert c["too_little_valid_area"] == 2 and c["bad_error_variance"] == 1
    assert c["product_flag_frozen_or_snow"] == 7
    land_values = 2 * int(land.sum())
    rejected_on_land = sum(c[k] for k in REASONS if k != "not_land")
    assert c["valid"] == land_values - rejected_on_land
    assert np.isfinite(r.values).sum() == c["valid"]
    for idx in [(0, 0, 0), (0, 2, 3), (1, 2, 4), (0, 3, 5), (1, 3, 5), (1, 4, 6)]:
        assert np.isnan(r.values[idx])
    assert np.array_equal(np.isnan(r.error_variance), np.isnan(r.values))
    assert r.accepted and r.reason == ""
    assert np.isfinite(v[0, 0, 0])  # the input is not modified


def test_a_sparse_image_is_refused_not_raised():
    v, land = _image()
    v[0, :, :] = np.nan
    v[0, 0, 4] = 0.2
    r = quality_control(v, land, min_valid_cells=3)
    assert not r.accepted
    assert r.valid_top == 1
    assert "1 valid land cells" in r.reason and "min_valid_cells" in r.reason
    all_fill = quality_control(np.full(v.shape, np.nan), land, min_valid_cells=1)
    assert not all_fill.accepted and all_fill.counts["valid"] == 0


def test_upper_bound_may_be_a_porosity_map_and_shapes_are_checked():
    v, land = _image()
    por = np.full((6, 8), 0.45)
    por[5, 7] = 0.05
    r = quality_control(v, land, upper=por, min_valid_cells=1)
    assert np.isnan(r.values[:, 5, 7]).all() and r.counts["above_upper_bound"] == 2
    with pytest.raises(ValueError, match="land mask shape"):
        quality_control(v, land[:, :4])


def test_a_sparse_layer_is_refused_and_a_sparse_top_layer_refuses_the_image():
    v, land = _image()
    lower = np.full(land.shape, 0.2)            # per-cell bounds, as the analysis passes them
    v[1, :, 3:] = np.nan                        # layer 2 keeps only column 2 (6 cells)
    var = np.full(v.shape, 4e-4)
    r = quality_control(v, land, lower=lower, upper=0.5, error_variance=var, min_valid_cells=7)
    assert r.accepted and r.refused_layers == (1,) and r.counts["layers_refused"] == 1
    assert r.layer_valid[1] == int(np.sum(v[1, :, 2] >= 0.2))
    assert np.all(np.isnan(r.values[1])) and np.all(np.isnan(r.error_variance[1]))
    assert r.counts["valid"] == np.isfinite(r.values).sum() == r.layer_valid[0]
    assert r.counts["below_lower_bound"] == int(np.sum(v[:, land] < 0.2))
    top = quality_control(v[::-1], land, min_valid_cells=7)
    assert not top.accepted and top.refused_layers == (0,) and "min_valid_cells" in top.reason

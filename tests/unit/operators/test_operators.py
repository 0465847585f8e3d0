"""Linear operators: dot tests, inverse/Parseval properties, fill quality, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import OperatorError
from landia.operators import (CoefficientSelection, CurveletTransform, HarmonicEmbedding,
                              PointSelection, dot_test)

GRIDS = [(32, 31), (33, 32), (45, 31), (181, 360),
         pytest.param((720, 1440), marks=pytest.mark.slow)]
RTOL = 1e-12


def _mask(shape, seed=0, fraction=0.35):
    """A land/sea-like mask: smooth random field thresholded, never empty."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    f = gaussian_filter(rng.standard_normal(shape), max(1.0, min(shape) / 12), mode="wrap")
    mask = f > np.quantile(f, 1 - fraction)
    return mask


@pytest.mark.parametrize("shape", GRIDS)
def test_dot_tests_of_each_operator_and_composition(shape):
    rng = np.random.default_rng(1)
    C = CurveletTransform.unpadded_for(shape)
    E = HarmonicEmbedding(_mask(shape), C.image_shape)
    y = rng.random(E.shape[1])
    P = CoefficientSelection(C.matvec(E.matvec(y)), 0.5)
    assert dot_test(E, rng) < RTOL
    assert dot_test(C, rng) < RTOL
    assert dot_test(P, rng) < RTOL
    assert dot_test(P @ C @ E, rng) < RTOL
    # The curvelet operator on the unpadded grid shape (zero padding + crop).
    C0 = CurveletTransform(shape)
    assert dot_test(C0, rng) < RTOL


@pytest.mark.parametrize("shape", [(32, 32), (64, 48), (33, 32), (45, 31)])
def test_curvelet_adjoint_is_inverse(shape):
    rng = np.random.default_rng(2)
    C = CurveletTransform(shape)
    x = rng.standard_normal(C.shape[1])
    np.testing.assert_allclose(C.rmatvec(C.matvec(x)), x, atol=1e-12)
    # Parseval: energy preserved.
    assert np.linalg.norm(C.matvec(x)) == pytest.approx(np.linalg.norm(x), rel=1e-12)
    if not C.padded:
        c = C.matvec(x)
        np.testing.assert_allclose(C.matvec(C.rmatvec(c)), c, atol=1e-12)


def test_padding_is_reported_and_library_shapes_are_not_silently_wrong():
    C = CurveletTransform((33, 32))
    assert C.padded and C.transform_shape[0] > 33
    assert CurveletTransform((32, 32)).padded is False


def test_curvelet_rejects_nan_and_bad_shapes():
    C = CurveletTransform((32, 32))
    x = np.zeros(32 * 32)
    x[5] = np.nan
    with pytest.raises(OperatorError, match="NaN"):
        C.matvec(x)
    with pytest.raises(OperatorError, match="2-D"):
        CurveletTransform((32,))
    with pytest.raises(OperatorError, match="multiple of 3"):
        CurveletTransform((32, 32), wedges=4)
    with pytest.raises(OperatorError, match="unknown backend"):
        CurveletTransform((32, 32), backend="wavelet")
    with pytest.raises(ValueError):
        C.matvec(np.zeros(31 * 32))


def test_fdct_backend_needs_curvelops():
    try:
        import curvelops  # noqa: F401
    except ImportError:
        with pytest.raises(OperatorError, match="curvelops"):
            CurveletTransform((32, 32), backend="fdct")
    else:  # pragma: no cover - only where CurveLab is installed
        C = CurveletTransform((64, 64), backend="fdct")
        assert dot_test(C) < 1e-10


def test_embedding_keeps_values_and_fills_harmonically():
    shape = (24, 20)
    valid = _mask(shape, 3, 0.5)
    rng = np.random.default_rng(3)
    v = rng.random(valid.sum())
    E = HarmonicEmbedding(valid)
    u = E.matvec(v).reshape(shape)
    assert E.exact
    np.testing.assert_array_equal(u[valid], v)
    assert np.all(np.isfinite(u))
    # Discrete harmonic on the torus at every filled cell: value = mean of 4 neighbours.
    mean4 = (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1)) / 4
    np.testing.assert_allclose(u[~valid], mean4[~valid], atol=1e-12)
    # Maximum principle: the fill never leaves the range of the data.
    assert u.min() >= v.min() - 1e-12 and u.max() <= v.max() + 1e-12


def test_embedding_ignores_nan_outside_valid_cells():
    valid = np.zeros((16, 16), bool)
    valid[4:12, 4:12] = True
    E = HarmonicEmbedding(valid, (16, 16))
    out = E.matvec(np.full(64, 0.3))
    np.testing.assert_allclose(out, 0.3)  # constant data -> constant fill


def test_multilevel_fill_is_close_to_exact_and_has_exact_adjoint():
    shape = (128, 160)
    valid = _mask(shape, 4, 0.4)
    rng = np.random.default_rng(4)
    from scipy.ndimage import gaussian_filter

    field = 0.25 + 0.05 * gaussian_filter(rng.standard_normal(shape), 4)
    v = field[valid]
    exact = HarmonicEmbedding(valid, exact_cells=10**9)
    approx = HarmonicEmbedding(valid, exact_cells=500, sweeps=8)
    assert exact.exact and not approx.exact
    assert dot_test(approx) < RTOL
    ue, ua = exact.matvec(v), approx.matvec(v)
    spread = v.max() - v.min()
    assert np.sqrt(np.mean((ue - ua) ** 2)) < 0.05 * spread
    assert np.all(np.isfinite(ua))
    np.testing.assert_array_equal(ua.reshape(shape)[valid], v)


def test_embedding_rejects_empty_mask_and_small_output():
    with pytest.raises(OperatorError, match="no valid cell"):
        HarmonicEmbedding(np.zeros((8, 8), bool))
    with pytest.raises(OperatorError, match="smaller"):
        HarmonicEmbedding(np.ones((8, 8), bool), (4, 8))


def test_selection_keeps_top_fraction_by_modulus():
    rng = np.random.default_rng(5)
    ref = rng.standard_normal(200)  # 100 complex pairs
    P = CoefficientSelection(ref, 0.25)
    assert P.shape == (50, 200)
    mod = np.abs(ref.view(np.complex128))
    assert mod[P.kept].min() >= np.delete(mod, P.kept).max()
    y = rng.standard_normal(50)
    np.testing.assert_allclose(P.matvec(P.rmatvec(y)), y)  # P P^T = I
    with pytest.raises(OperatorError):
        CoefficientSelection(ref, 0.0)
    bad = ref.copy()
    bad[3] = np.nan
    with pytest.raises(OperatorError, match="NaN"):
        CoefficientSelection(bad, 0.5)


def test_selection_of_every_coefficient_is_the_identity():
    """sigma 1 (the default): P keeps every pair, in order, without ranking them."""
    rng = np.random.default_rng(6)
    ref = rng.standard_normal(200)
    P = CoefficientSelection(ref, 1.0)
    assert P.everything and P.shape == (200, 200)
    np.testing.assert_array_equal(P.kept, np.arange(100))
    x = rng.standard_normal(200)
    np.testing.assert_array_equal(P.matvec(x), x)
    np.testing.assert_array_equal(P.rmatvec(x), x)
    assert dot_test(P) < RTOL
    # one pair fewer takes the ranking path and drops the smallest pair
    general = CoefficientSelection(ref, 0.99)
    assert not general.everything and general.shape == (198, 200)
    assert np.abs(ref.view(np.complex128)).argmin() not in general.kept


def test_point_selection_dot_and_repeats():
    H = PointSelection(10, np.array([1, 4, 4, 9]))
    assert dot_test(H) < RTOL
    np.testing.assert_allclose(H.rmatvec(np.ones(4))[[1, 4, 9]], [1, 2, 1])
    with pytest.raises(OperatorError):
        PointSelection(5, np.array([7]))


def test_screened_fill_solves_its_equation_and_relaxes_to_zero():
    shape = (40, 36)
    valid = np.zeros(shape, bool)
    valid[10:20, 8:18] = True
    E = HarmonicEmbedding(valid, decay=2.0)
    assert dot_test(E) < RTOL
    u = E.matvec(np.full(valid.sum(), 0.3)).reshape(shape)
    kappa = 1 / 4.0
    nb = np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1)
    np.testing.assert_allclose(((4 + kappa) * u - nb)[~valid], 0, atol=1e-13)
    assert abs(u[35, 30]) < 1e-3 * 0.3  # far from the data the anomaly has decayed away
    assert u[20, 12] > 0.1              # next to it, it has not


def _largest_eigenvalue(op, iterations=60):
    v = np.random.default_rng(0).standard_normal(op.shape[1])
    lam = 0.0
    for _ in range(iterations):
        w = op.rmatvec(op.matvec(v))
        lam = float(np.linalg.norm(w))
        v = w / lam
    return lam


def test_screening_keeps_the_image_term_conditioned_at_any_resolution():
    """||E||^2 sets the image term's largest Hessian eigenvalue (C and P are contractions).

    A pure harmonic fill lets one coastal cell set a whole ocean, so ||E||^2 grows as
    the grid is refined; the screened fill keeps it bounded.
    """
    def norms(n, decay):
        yy, xx = np.mgrid[0:n, 0:n] / n
        land = (xx < 0.35 + 0.05 * np.sin(6 * yy)) & (yy > 0.1)  # a continent and an ocean
        return _largest_eigenvalue(HarmonicEmbedding(land, decay=decay, exact_cells=10**9))

    coarse, fine = norms(32, 0.0), norms(128, 0.0)
    assert fine > 3 * coarse  # harmonic: grows with resolution
    s_coarse, s_fine = norms(32, 2.0), norms(128, 2.0)
    assert s_fine < 1.5 * s_coarse and s_fine < 5.0


@pytest.mark.parametrize("shape,scales", [((32, 31), 2), ((32, 31), 4), ((18, 38), 3),
                                          ((45, 31), 5)])
def test_every_coefficient_belongs_to_one_band_of_its_scale(shape, scales):
    """The scale/wedge bookkeeping follows the coefficient vector: the band of a coefficient
    is where UDCT's structure puts it, coarsest scale first."""
    C = CurveletTransform(shape, scales)
    assert C.wedges_per_scale[0] == 1 and len(C.wedges_per_scale) == scales
    assert all(C.wedges_per_scale[j] == 2 * 3 * 2 ** (j - 1) for j in range(1, scales))
    assert C.coefficient_band.size == C.n_coefficients == C.shape[0] // 2
    assert np.all(np.diff(C.coefficient_band) >= 0) and np.all(np.diff(C.coefficient_scale) >= 0)
    # the coefficients of each band are those of its wedge in the transform's structure
    rng = np.random.default_rng(5)
    c = C.matvec(rng.standard_normal(C.shape[1])).view(np.complex128)
    struct = C._udct_transform.struct(c.copy())
    b = 0
    for j, scale in enumerate(struct):
        w = 0
        for direction in scale:
            for wedge in direction:
                here = C.coefficient_band == b
                assert np.array_equal(c[here], wedge.ravel())
                assert np.all(C.coefficient_scale[here] == j)
                assert np.all(C.coefficient_wedge[here] == w)
                b, w = b + 1, w + 1
    table = C.band_table(C.band_sizes, fill=0)
    assert table.shape == (scales, max(C.wedges_per_scale)) and table.sum() == C.n_coefficients
    assert np.isnan(C.band_table(np.ones(C.band_sizes.size))[0, 1:]).all()

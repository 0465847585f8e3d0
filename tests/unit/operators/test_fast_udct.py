"""The fast UDCT equals the ``curvelets`` library's UDCT to round-off, and is its adjoint."""

import warnings

import numpy as np
import pytest
from curvelets.numpy import UDCT

from landia.operators import CurveletTransform, dot_test
from landia.operators.fast_udct import FastUDCT


def library(shape, scales, wedges, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return UDCT(shape=shape, num_scales=scales, wedges_per_direction=wedges, **kw)


def relative(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


CASES = [((18, 38), 5, 3), ((18, 38), 2, 3), ((32, 31), 5, 3), ((32, 31), 3, 6),
         ((64, 64), 4, 3), ((64, 64), 3, 6), ((45, 31), 4, 3)]


@pytest.mark.parametrize("shape,scales,wedges", CASES)
def test_operator_equals_the_library_backend(shape, scales, wedges):
    """Forward and adjoint of backend 'udct' (fast) equal 'udct-reference' (the library) to
    round-off on random images/coefficients, same transform shape and band layout."""
    fast = CurveletTransform(shape, scales, wedges)
    ref = CurveletTransform(shape, scales, wedges, backend="udct-reference")
    assert fast.transform_shape == ref.transform_shape and fast.shape == ref.shape
    assert np.array_equal(fast.band_sizes, ref.band_sizes)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(fast.shape[1])
    y = rng.standard_normal(fast.shape[0])
    assert relative(fast.matvec(x), ref.matvec(x)) < 1e-12
    assert relative(fast.rmatvec(y), ref.rmatvec(y)) < 1e-12
    assert dot_test(fast, rng) < 1e-12


@pytest.mark.parametrize("shape,scales,wedges", [((256, 256), 4, 3), ((64, 96), 3, 3),
                                                 ((96, 48), 5, 3)])
def test_fast_udct_equals_library_on_larger_and_oblong_grids(shape, scales, wedges):
    """Directly against UDCT.vect(forward(x)) and UDCT.backward(struct(c)), complex
    coefficients, including oblong grids where the two directions decimate differently."""
    lib = library(shape, scales, wedges)
    fast = FastUDCT(lib)
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    c_ref = lib.vect(lib.forward(x))
    assert fast.n_coefficients == c_ref.size
    assert relative(fast.forward(x), c_ref) < 1e-12
    c = rng.standard_normal(c_ref.size) + 1j * rng.standard_normal(c_ref.size)
    assert relative(fast.backward(c), lib.backward(lib.struct(c.copy()))) < 1e-12
    # the adjoint identity in Re<c, d>
    lhs = np.real(np.vdot(fast.forward(x), c))
    assert abs(lhs - np.sum(x * fast.backward(c))) < 1e-12 * np.abs(c).sum() * np.abs(x).max()


@pytest.mark.parametrize("shape,scales", [((32, 48), 5), ((64, 64), 4), ((32, 32), 2)])
def test_parseval_and_perfect_reconstruction_like_the_library(shape, scales):
    """The library's real UDCT is a Parseval tight frame on a shape that suits it:
    ||W x|| = ||x|| and W* W x = x. The fast path keeps both (to round-off)."""
    lib = library(shape, scales, 3)
    fast = FastUDCT(lib)
    x = np.random.default_rng(2).standard_normal(shape)
    c = fast.forward(x)
    assert abs(np.linalg.norm(c) / np.linalg.norm(x) - 1) < 1e-12
    assert abs(np.linalg.norm(lib.vect(lib.forward(x))) / np.linalg.norm(x) - 1) < 1e-12
    assert np.max(np.abs(fast.backward(c) - x)) < 1e-12 * np.max(np.abs(x))
    # through the operator, with zero padding (18 x 38 -> 32 x 48): C^T C = I still
    C = CurveletTransform((18, 38), 5)
    z = np.random.default_rng(4).standard_normal(C.shape[1])
    assert np.max(np.abs(C.rmatvec(C.matvec(z)) - z)) < 1e-12


def test_input_is_not_modified_and_kinds_are_checked():
    lib = library((32, 32), 3, 3)
    fast = FastUDCT(lib)
    c = np.random.default_rng(0).standard_normal(fast.n_coefficients) + 0j
    keep = c.copy()
    fast.backward(c)
    assert np.array_equal(c, keep)
    with pytest.raises(ValueError, match="expected"):
        fast.backward(c[:-1])
    with pytest.raises(ValueError, match="real UDCT"):
        FastUDCT(library((32, 32), 3, 3, transform_kind="complex"))


def test_fft_shape_pads_to_fast_fft_lengths():
    """curvelet.fft_shape: 52 = 4 x 13 rows (3 scales, quantum 4) pad to 56 = 4 x 14, so that
    no FFT has the factor 13; the transform stays a tight frame with an exact adjoint, and the
    default keeps the smallest UDCT shape."""
    assert CurveletTransform((52, 40), 3).transform_shape == (52, 40)
    C = CurveletTransform((52, 40), 3, fft_shape=True)
    assert C.transform_shape == (56, 40) and C.padded
    z = np.random.default_rng(8).standard_normal(C.shape[1])
    assert np.max(np.abs(C.rmatvec(C.matvec(z)) - z)) < 1e-12
    assert dot_test(C) < 1e-12
    U = CurveletTransform.unpadded_for((52, 40), 3, fft_shape=True)
    assert U.image_shape == U.transform_shape == (56, 40)


def test_existing_configs_keep_their_hash():
    """backend 'udct' now means the fast path (same transform): existing configs keep their
    hash, and so does fft_shape at its default; turning it on or choosing the reference
    backend changes it."""
    from landia.config import settings_from_dict
    from landia.cycling.config_hash import config_hash

    period = {"cycle": {"start": "2015-06-01T00:00", "end": "2015-06-01T12:00"}}
    base = config_hash(settings_from_dict(period))
    assert config_hash(settings_from_dict({**period, "curvelet": {"fft_shape": False}})) == base
    assert config_hash(settings_from_dict({**period, "curvelet": {"backend": "udct"}})) == base
    for change in ({"fft_shape": True}, {"backend": "udct-reference"}):
        assert config_hash(settings_from_dict({**period, "curvelet": change})) != base


@pytest.mark.parametrize("shape,cuts", [((48, 64), (3, 7)), ((32, 32), (1,)),
                                        ((40, 56), (0, 2, 11))])
def test_parts_of_whole_wedges_give_the_transform(shape, cuts):
    """Parts covering every wedge once: the forward coefficients bit for bit, and the sum of
    their half spectra through one irfft2 the backward transform to round-off."""
    fast = CurveletTransform.unpadded_for(shape)._fast
    offsets = fast.wedge_offsets
    bounds = [0, *(int(offsets[c]) for c in cuts), fast.n_coefficients]
    parts = [fast.part(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    rng = np.random.default_rng(3)
    x = rng.standard_normal(fast.shape)
    whole = fast.forward(x).copy()
    half = fast.half_spectrum(x)
    assert np.array_equal(np.concatenate([p.forward(half) for p in parts]), whole)
    c = rng.standard_normal(fast.n_coefficients) + 1j * rng.standard_normal(fast.n_coefficients)
    reference = fast.backward(c)
    summed = sum(p.backward(c[p.lo:p.hi].copy()) for p in parts)
    image = fast.image_from_half(summed)
    assert np.max(np.abs(image - reference)) < 1e-13 * np.max(np.abs(reference))
    with pytest.raises(ValueError, match="whole wedges"):
        fast.part(1, int(offsets[2]))

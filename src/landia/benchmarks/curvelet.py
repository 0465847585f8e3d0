"""Benchmark of the curvelet operator C: its cost in FFT pairs.

Figures, for images 256x256, 1024x1024 and 1800x3600 (``--quick``: not the last), suffix
``_{ny}x{nx}``:

``curvelet_ratio``
    Median seconds of one forward + adjoint of
    :class:`~landia.operators.CurveletTransform` (``rmatvec(matvec(x))`` on a
    random image) divided by the median seconds of
    ``np.fft.ifft2(np.fft.fft2(img))`` on the same image: the cost of C in
    "FFT pairs".
``curvelet_udct_ratio``
    The same for the ``curvelets`` library's own UDCT (``UDCT.backward(UDCT.forward(img))``
    on the transform shape: backend ``udct-reference``, built here only for this figure);
    the operator computes the same transform with
    :class:`~landia.operators.fast_udct.FastUDCT`.
``curvelet_pair_s``, ``curvelet_udct_pair_s``, ``fft_pair_s``
    The median seconds behind those ratios.
``curvelet_fft_shape_ratio``, ``curvelet_fft_shape_pair_s``, ``curvelet_fft_shape_ny``
    Only where ``curvelet.fft_shape`` changes the transform shape (of these images, only
    1800 x 3600: 1920 rather than 1808 rows): the ratio and pair seconds of the operator built
    with ``fft_shape=True`` (its transform rows), against the same FFT pair.
``curvelet_build_s``
    One-off construction of the operator (UDCT windows plus the reconstruction
    check), excluded from the ratios.
``curvelet_peak_mb``
    Peak resident memory of the process that built and applied the transform (before the
    ``fft_shape`` operator).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from landia.benchmarks.measure import median_seconds, pair_seconds, peak_mb

SHAPES = ((256, 256), (1024, 1024), (1800, 3600))


def curvelet_case(shape: tuple[int, int]) -> dict:
    """Curvelet forward+adjoint cost on one image shape, against an FFT pair."""
    # Imported here, not at the top: every case's process imports this module, and the
    # operator (curvelets, scipy: ~80 MB) must count in this case's peak only.
    from landia.operators import CurveletTransform

    tag = f"{shape[0]}x{shape[1]}"
    t0 = time.perf_counter()
    op = CurveletTransform(shape)
    build = time.perf_counter() - t0
    img = np.random.default_rng(1).standard_normal(shape)
    pair = pair_seconds(op)
    udct = op._udct_transform  # the library's own UDCT, the reference implementation
    padded = np.zeros(op.transform_shape)
    padded[: shape[0], : shape[1]] = img
    udct_pair = median_seconds(lambda: udct.backward(udct.forward(padded)))
    fft = median_seconds(lambda: np.fft.ifft2(np.fft.fft2(img)))
    peak = peak_mb()  # the default operator's; the fft_shape one below comes on top
    fast = {}
    fast_op = CurveletTransform(shape, fft_shape=True)  # same shape: the cached build
    if fast_op.transform_shape != op.transform_shape:
        fast_pair = pair_seconds(fast_op)
        fast = {f"curvelet_fft_shape_ratio_{tag}": fast_pair / fft,
                f"curvelet_fft_shape_pair_s_{tag}": fast_pair,
                f"curvelet_fft_shape_ny_{tag}": fast_op.transform_shape[0]}
    return {f"curvelet_ratio_{tag}": pair / fft,
            f"curvelet_udct_ratio_{tag}": udct_pair / fft,
            f"curvelet_pair_s_{tag}": pair,
            f"curvelet_udct_pair_s_{tag}": udct_pair,
            f"fft_pair_s_{tag}": fft,
            f"curvelet_build_s_{tag}": build,
            f"curvelet_peak_mb_{tag}": peak, **fast}


CASES = {f"curvelet_{ny}x{nx}": partial(curvelet_case, (ny, nx)) for ny, nx in SHAPES}

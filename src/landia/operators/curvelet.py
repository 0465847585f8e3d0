"""C: the 2-D curvelet transform as a real pylops operator.

Backends
--------
``udct``
    Uniform discrete curvelet transform of the MIT-licensed ``curvelets`` package
    (Nguyen and Chauris 2010). It is a Parseval tight frame: the backward transform
    is the exact adjoint and the exact inverse, with about 2.0-2.1 complex
    coefficients per pixel. Computed by :class:`~landia.operators.fast_udct.FastUDCT`
    from the library's windows (one ``rfft2``, one sparse product and a few batched small
    FFTs each way; equal to the library to round-off; 10x faster on small grids, 3x at
    256 x 256).
``udct-reference``
    The same transform computed by the library itself (one Python call per wedge): the
    reference the fast path is tested against.
``fdct``
    CurveLab's fast discrete curvelet transform through the optional ``curvelops``
    package (licence-restricted, never required).

Complex coefficients are exposed as interleaved (real, imaginary) float64 pairs, so
that C maps :math:`\\mathbb{R}^{n_y n_x}` to :math:`\\mathbb{R}^{2m}` and the real
inner product of the coefficient space is :math:`\\mathrm{Re}\\,\\langle c, d\\rangle`;
with it, UDCT's backward transform is exactly :math:`C^T`.

Shapes
------
UDCT is silently wrong when an image side does not suit its decimation (33 x 32
with 3 scales reconstructs with an error of 0.5). Images are therefore zero-padded
(bottom/right) to a *transform shape* on which a random image is verified to
reconstruct to round-off when the transform is built; the adjoint crops. Callers
that want a smooth padding (the analysis does) embed their field directly into
:attr:`CurveletTransform.transform_shape` with :class:`HarmonicEmbedding`.

Bands
-----
The coefficient vector is the concatenation of *bands*, coarsest scale first: scale 0 is the
low-pass band (one wedge); scale j >= 1 has ``wedges_per_scale[j]`` wedges (orientations).
:attr:`CurveletTransform.coefficient_band` gives the band of every complex coefficient,
``band_scale``/``band_wedge`` the scale and wedge of every band, and
:meth:`CurveletTransform.band_table` lays a per-band vector out as a (scale, wedge) table: the
bookkeeping of the image term's per-scale variances and statistics.
"""

from __future__ import annotations

import functools
import math
import time
import warnings

import numpy as np
import scipy.fft
from curvelets.numpy import UDCT
from pylops import LinearOperator

from landia.errors import OperatorError
from landia.operators.fast_udct import FastUDCT

#: Largest number of scales chosen automatically (more scales cost build time and
#: padding without changing what the image term sees on soil-moisture images).
MAX_AUTO_SCALES = 5


def auto_scales(shape: tuple[int, int]) -> int:
    """The default number of scales: ``ceil(log2(min(ny, nx)))`` within [2, 5].

    That is the fewest scales whose low-pass band is at most 4 coefficients across the
    shorter side (UDCT halves it with every scale after the second), up to 5: 5 on the
    paper's 32 x 31 grid, on CONUS's 18 x 38 and on global grids; 4 on a 16 x 16 test grid.
    Chosen by measurement (docs/analysis.md, "Number of scales"): with 2 scales (CurveLab's
    rule, ``ceil(log2(min)) - 3``, on the small grids) the low-pass band is the whole
    half-band image, the image term acts as a low-pass filter only when sigma keeps that band
    whole, and the analysis lost up to 0.19 SCC at sigma = 0.1; 5 scales were best or within
    0.024 SCC of the best in every measured case and need fewer iterations on large grids.
    """
    return int(min(MAX_AUTO_SCALES, max(2, math.ceil(math.log2(max(2, min(shape)))))))


def _quantum(scales: int, wedges: int) -> int:
    """Side lengths UDCT accepts are multiples of this (verified after building)."""
    return max(4, 2 ** (scales - 1) * (wedges // 3))


def _transform_side(side: int, quantum: int, fft_shape: bool) -> int:
    """The smallest multiple of ``quantum`` >= ``side``; with ``fft_shape`` the smallest
    whose quotient is a fast FFT length (``scipy.fft.next_fast_len``: 2-3-5-7-11-smooth), so
    that neither the image FFT nor any wedge's decimated FFT has a large prime factor."""
    m = math.ceil(side / quantum)
    return quantum * (scipy.fft.next_fast_len(m) if fft_shape else m)


@functools.lru_cache(maxsize=8)
def _udct(shape: tuple[int, int], scales: int, wedges: int):
    """Build (once per process and shape) a verified UDCT; returns (transform, error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transform = UDCT(shape=shape, num_scales=scales, wedges_per_direction=wedges)
    probe = np.random.default_rng(7).standard_normal(shape)
    error = float(np.max(np.abs(transform.backward(transform.forward(probe)) - probe)))
    return transform, error


@functools.lru_cache(maxsize=8)
def _fast_udct(shape: tuple[int, int], scales: int, wedges: int):
    """Build (once per process and shape) a verified fast UDCT; returns (transform, error).

    The library transform only lends its windows and is not kept (its windows take
    about as much memory again as the fast transform's sparse matrices)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transform = FastUDCT(UDCT(shape=shape, num_scales=scales,
                                  wedges_per_direction=wedges))
    probe = np.random.default_rng(7).standard_normal(shape)
    error = float(np.max(np.abs(transform.backward(transform.forward(probe)) - probe)))
    return transform, error


#: UDCT backends: how each builds its (cached) transform.
_UDCT_BUILDERS = {"udct": _fast_udct, "udct-reference": _udct}


class CurveletTransform(LinearOperator):
    """2-D curvelet transform of a real image, real coefficients out.

    Parameters
    ----------
    shape : (int, int)
        Image shape (ny, nx) the operator accepts.
    scales : int
        Number of scales including the low-pass one; 0 picks :func:`auto_scales`.
    wedges : int
        Angular wedges per direction at the coarsest scale (multiple of 3).
    backend : {"udct", "udct-reference", "fdct"}
        Transform implementation (see module docstring).
    fft_shape : bool
        Pad to a transform shape whose sides are fast FFT lengths (see
        :func:`_transform_side`; e.g. 1920 instead of 1808 = 16 x 113 rows on the 0.1 deg
        global grid, 2.4x faster). False keeps the smallest UDCT shape.

    Notes
    -----
    With :math:`Z` the zero padding to the transform shape and :math:`W` the UDCT,

    .. math:: C = \\mathcal{R}(W Z), \\qquad C^T = Z^T W^{*}\\,\\mathcal{R}^{-1},

    where :math:`\\mathcal{R}` interleaves real and imaginary parts. For UDCT
    :math:`W^* W = I` (Parseval), so :math:`C^T C = I` and
    :math:`\\|Cx\\| = \\|x\\|`.
    """

    def __init__(self, shape: tuple[int, int], scales: int = 0, wedges: int = 3,
                 backend: str = "udct", name: str = "C", fft_shape: bool = False) -> None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or min(shape) < 2:
            raise OperatorError(f"CurveletTransform: expected a 2-D image shape with sides "
                                f">= 2, got {shape}")
        if wedges < 3 or wedges % 3:
            raise OperatorError(f"CurveletTransform: wedges must be a multiple of 3, got {wedges}")
        self.image_shape = shape
        self.scales = auto_scales(shape) if scales == 0 else int(scales)
        if self.scales < 2:
            raise OperatorError(f"CurveletTransform: need at least 2 scales, got {scales}")
        self.wedges = int(wedges)
        self.backend = backend
        self.fft_shape = bool(fft_shape)
        if backend in _UDCT_BUILDERS:
            self._build_udct(_UDCT_BUILDERS[backend])
        elif backend == "fdct":
            self._build_fdct()
        else:
            raise OperatorError(f"CurveletTransform: unknown backend {backend!r}; expected "
                                "'udct', 'udct-reference' or 'fdct'")
        self.seconds = 0.0  # wall time spent in forward/adjoint transforms
        super().__init__(dtype=np.float64, shape=(2 * self.n_coefficients, shape[0] * shape[1]),
                         dims=shape, name=name)

    # -- construction -----------------------------------------------------------------
    def _build_udct(self, build) -> None:
        q = _quantum(self.scales, self.wedges)
        ny, nx = (_transform_side(s, q, self.fft_shape) for s in self.image_shape)
        for _attempt in range(4):
            transform, error = build((ny, nx), self.scales, self.wedges)
            if error < 1e-9:
                break
            ny, nx = ny + q, nx + q  # rare: the library's rule is not a plain multiple
        else:
            raise OperatorError(
                f"CurveletTransform: UDCT with {self.scales} scales and {self.wedges} wedges "
                f"does not reconstruct images near {self.image_shape} (error {error:.2e}); "
                "choose other curvelet.scales/curvelet.wedges")
        self.transform_shape = (ny, nx)
        if isinstance(transform, FastUDCT):
            self._fast = transform
            self._set_bands(transform.wedge_sizes)
        else:
            self._fast = None
            self._reference = transform
            # forward() nests scale -> direction -> wedge; vect() concatenates in that order.
            self._set_bands([[w.size for d in s for w in d]
                             for s in transform.forward(np.zeros((ny, nx)))])

    @property
    def _udct_transform(self):
        """The library's UDCT on the transform shape (built on first use for the fast
        backend): the reference implementation, and ``struct``/``vect`` of its layout."""
        if getattr(self, "_reference", None) is None:
            self._reference = _udct(self.transform_shape, self.scales, self.wedges)[0]
        return self._reference

    def _build_fdct(self) -> None:
        try:
            from curvelops import FDCT2D  # optional, licence-restricted
        except ImportError:
            raise OperatorError("curvelet backend 'fdct' needs the optional package "
                                "curvelops (CurveLab); it is not importable here. Use "
                                "curvelet.backend = 'udct'.") from None
        self.transform_shape = self.image_shape
        self._fdct = FDCT2D(dims=self.image_shape, nbscales=self.scales,
                            nbangles_coarse=16 * self.wedges // 3, allcurvelets=True)
        # curvelops lists each scale's wedge shapes in the order of its coefficient vector.
        self._set_bands([[int(np.prod(shape)) for shape in scale]
                         for scale in self._fdct.shapes])
        if self.n_coefficients != int(self._fdct.shape[0]):
            raise OperatorError(f"CurveletTransform: curvelops reports {self._fdct.shape[0]} "
                                f"coefficients but its wedge shapes add up to "
                                f"{self.n_coefficients}")

    def _set_bands(self, sizes: list[list[int]]) -> None:
        """Scale/wedge bookkeeping from the coefficient count of each wedge of each scale
        (coarsest scale first, in the order of the coefficient vector)."""
        self.wedges_per_scale = tuple(len(s) for s in sizes)
        self.band_sizes = np.array([n for s in sizes for n in s], dtype=np.int64)
        self.band_scale = np.repeat(np.arange(len(sizes), dtype=np.int16), self.wedges_per_scale)
        self.band_wedge = np.concatenate([np.arange(len(s), dtype=np.int16) for s in sizes])
        self.n_coefficients = int(self.band_sizes.sum())
        # int32: one index per coefficient (2 million of them at 0.25 deg)
        self.coefficient_band = np.repeat(np.arange(self.band_sizes.size, dtype=np.int32),
                                          self.band_sizes)

    @property
    def coefficient_scale(self) -> np.ndarray:
        """Scale (0 = low-pass) of each complex coefficient, shape (n_coefficients,)."""
        return self.band_scale[self.coefficient_band]

    @property
    def coefficient_wedge(self) -> np.ndarray:
        """Wedge of each complex coefficient within its scale, shape (n_coefficients,)."""
        return self.band_wedge[self.coefficient_band]

    @property
    def max_wedges(self) -> int:
        """The most wedges of any scale (the length of a per-wedge table's rows)."""
        return max(self.wedges_per_scale)

    def band_table(self, per_band: np.ndarray, fill=np.nan) -> np.ndarray:
        """A per-band vector (one value per (scale, wedge) band, in coefficient order) as a
        (scales, max_wedges) table; wedges a scale does not have hold ``fill``."""
        per_band = np.asarray(per_band)
        table = np.full((self.scales, self.max_wedges), fill,
                        dtype=np.result_type(per_band.dtype, np.asarray(fill).dtype))
        table[self.band_scale, self.band_wedge] = per_band
        return table

    @classmethod
    def unpadded_for(cls, shape: tuple[int, int], scales: int = 0, wedges: int = 3,
                     backend: str = "udct", fft_shape: bool = False) -> "CurveletTransform":
        """Transform acting on the (padded) transform shape that suits ``shape``.

        Pair it with ``HarmonicEmbedding(valid, out_shape=C.image_shape)`` so that the
        padding is filled smoothly instead of with zeros. ``scales=0`` is resolved on
        ``shape`` (not on the padded shape) so both constructions agree.
        """
        scales = auto_scales(shape) if scales == 0 else scales
        probe = cls(shape, scales, wedges, backend, fft_shape=fft_shape)
        if not probe.padded:
            return probe
        return cls(probe.transform_shape, scales, wedges, backend, fft_shape=fft_shape)

    # -- application -------------------------------------------------------------------
    @property
    def padded(self) -> bool:
        """True when images are zero-padded to a larger transform shape."""
        return self.transform_shape != self.image_shape

    def _pad(self, image: np.ndarray) -> np.ndarray:
        if not self.padded:
            return image
        out = getattr(self, "_padded", None)
        if out is None:  # one buffer per operator: its padding stays zero (transforms only read it)
            out = self._padded = np.zeros(self.transform_shape)
        out[: self.image_shape[0], : self.image_shape[1]] = image
        return out

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        image = np.asarray(x, dtype=np.float64).reshape(self.image_shape)
        if not np.all(np.isfinite(image)):
            raise OperatorError("CurveletTransform: image contains NaN/inf; fill sea and "
                                "missing cells (HarmonicEmbedding) before transforming")
        t0 = time.perf_counter()
        if self.backend == "fdct":
            out = np.ascontiguousarray(self._fdct.matvec(image.ravel()).astype(np.complex128))
        elif self._fast is not None:
            out = self._fast.forward(self._pad(image))
        else:
            out = self._udct_transform.vect(self._udct_transform.forward(self._pad(image)))
        self.seconds += time.perf_counter() - t0
        return out.view(np.float64)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        c = np.ascontiguousarray(y, dtype=np.float64).view(np.complex128)
        t0 = time.perf_counter()
        if self.backend == "fdct":
            out = np.real(self._fdct.rmatvec(c)).ravel()
        elif self._fast is not None:
            image = self._fast.backward(c)
            out = image[: self.image_shape[0], : self.image_shape[1]].ravel()
        else:
            image = self._udct_transform.backward(self._udct_transform.struct(c))
            out = np.real(image)[: self.image_shape[0], : self.image_shape[1]].ravel()
        self.seconds += time.perf_counter() - t0
        return out

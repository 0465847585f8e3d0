"""The real UDCT of the ``curvelets`` package, applied with two sparse products and batched FFTs.

The library (``curvelets.numpy.UDCT``, ``transform_kind="real"``) computes each wedge in its own
Python call: gather the wedge's window times the image spectrum, fold it onto the decimated
grid (``np.add.at``), one small inverse FFT; the backward transform scatters each wedge back.
On small grids that is hundreds of tiny numpy calls per transform. :class:`FastUDCT` applies
the same linear map with the same windows, scale factors and coefficient layout as three
whole-array steps.

Maths
-----
With :math:`\\hat x = \\mathcal{F} x` the 2-D DFT of the real image (shape :math:`n_0 \\times
n_1`), wedge :math:`w` with window values :math:`v_w(k)` on its support :math:`K_w`, decimation
:math:`d_w` (per axis) and decimated grid :math:`m_w = n / d_w`, the library's forward
coefficient is

.. math:: c_w = s_w\\, \\mathcal{F}^{-1}_{m_w}\\Big[\\sum_{k \\in K_w,\\, k \\equiv q
          \\,(\\mathrm{mod}\\ m_w)} v_w(k)\\, \\hat x(k)\\Big]_q ,

with :math:`s_w = \\sqrt{2 \\prod d_w} / \\prod d_w` for a wedge and :math:`s_0 = 2^{J-2} /
\\prod d_0` for the low-pass band (:math:`J` scales). The fold-and-weight step of all wedges is
one sparse matrix :math:`M_f` (one row per complex coefficient, in the library's ``vect``
order: scale, direction, wedge, then C order within the wedge). Since :math:`x` is real,
:math:`\\hat x(k) = \\overline{\\hat x(-k)}`: the columns of :math:`M_f` index the
half spectrum of ``rfft2`` and its conjugate, so

.. math:: \\tilde c = M_f \\begin{bmatrix} \\hat x_h \\\\ \\overline{\\hat x_h} \\end{bmatrix},
          \\qquad c_w = \\mathcal{F}^{-1}_{m_w} \\tilde c_w ,

and the small inverse FFTs of all wedges of one (scale, direction) -- which share
:math:`m_w` -- run as one batched call. The library's backward transform is

.. math:: x = \\mathrm{Re}\\, \\mathcal{F}^{-1} G, \\qquad G(k) = \\sum_w b_w\\, v_w(k)\\,
          [\\mathcal{F}_{m_w} c_w](k \\bmod m_w),

with :math:`b_w = 2\\sqrt{\\prod d_w / 2}` (wedges) and :math:`b_0 = \\sqrt{\\prod d_0}`.
:math:`\\mathrm{Re}\\,\\mathcal{F}^{-1} G = \\mathcal{F}^{-1} H` with the Hermitian part
:math:`H(k) = (G(k) + \\overline{G(-k)})/2`, whose half spectrum is one sparse product
:math:`[H_1; H_2] = M_b\\, \\mathcal{F}_{m}c`, :math:`H_h = H_1 + \\overline{H_2}`, followed by
one ``irfft2``. Both transforms therefore equal the library's to round-off; the library's
backward transform is the exact adjoint of its forward transform in the real inner product
:math:`\\mathrm{Re}\\langle c, d \\rangle` (and, being a tight frame, its inverse), and so is
this one.

Cost: one ``rfft2``/``irfft2`` of the image, one sparse product each way with as many nonzeros
as the windows have samples (about 2-3 per pixel), and ``1 + 2 (J-1)`` batched small FFTs at
most (fewer where consecutive groups share a grid, e.g. square images).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.sparse as sp


class FastUDCT:
    """Forward and backward real UDCT from the library's windows, without per-wedge loops.

    Parameters
    ----------
    reference : curvelets.numpy.UDCT
        A real-kind (``transform_kind="real"``) library transform of a 2-D shape in curvelet
        high-frequency mode; only its windows, decimation ratios and scale count are read.
        It can be discarded after construction.
    workers : int
        Threads for ``scipy.fft`` (1: none; -1: all cores). The sparse products are
        single-threaded.

    Notes
    -----
    An instance keeps two work arrays (the stacked half spectrum and one coefficient
    vector) between calls: it is not safe to call from several threads at once.

    Attributes
    ----------
    shape : (int, int)
        Image shape :math:`(n_0, n_1)`.
    n_coefficients : int
        Number of complex coefficients (the length of :meth:`forward`'s output).
    wedge_sizes : list of list of int
        Coefficients per wedge, nested scale -> wedge (directions concatenated), in
        coefficient order.
    """

    def __init__(self, reference, workers: int = 1) -> None:
        params = reference.parameters
        shape = tuple(int(s) for s in params.shape)
        if len(shape) != 2:
            raise ValueError(f"FastUDCT: 2-D transforms only, got shape {shape}")
        if getattr(reference, "transform_kind", "real") != "real":
            raise ValueError("FastUDCT: only the real UDCT (transform_kind='real')")
        if len(reference.windows[-1]) == 1 and params.num_scales > 1:
            raise ValueError("FastUDCT: wavelet high-frequency mode is not supported")
        self.shape = shape
        self.workers = int(workers)
        n0, n1 = shape
        h1 = n1 // 2 + 1
        self._half = (n0, h1)
        nh = n0 * h1
        scales = params.num_scales

        f_rows, f_cols, f_vals = [], [], []   # forward: coefficient slot <- spectrum
        b_rows, b_cols, b_vals = [], [], []   # backward: half spectrum (x2) <- slot
        groups = []                           # (offset, n_wedges, (a, b)) per (scale, dir)
        self.wedge_sizes = []
        offset = 0
        for s, scale_windows in enumerate(reference.windows):
            ratios = reference.decimation_ratios[s]
            sizes = []
            for d, direction_windows in enumerate(scale_windows):
                dec = np.asarray(ratios[0] if ratios.shape[0] == 1
                                 else ratios[min(d, ratios.shape[0] - 1)], dtype=np.int64)
                prod_d = float(np.prod(dec))
                if s == 0:
                    fscale = 2.0 ** (scales - 2) / prod_d
                    bscale = np.sqrt(prod_d)
                else:
                    fscale = np.sqrt(2.0 * prod_d) / prod_d
                    bscale = 2.0 * np.sqrt(prod_d / 2.0)
                small = (n0 // int(dec[0]), n1 // int(dec[1]))
                m = small[0] * small[1]
                groups.append((offset, len(direction_windows), small))
                for window in direction_windows:
                    idx = np.asarray(window.indices, dtype=np.int64)
                    k0, k1 = np.divmod(idx, n1)
                    folded = (k0 % small[0]) * small[1] + (k1 % small[1])
                    slot = offset + folded
                    vals = np.asarray(window.values, dtype=np.float64)
                    # forward: x^(k) = R(k) where k1 < h1, else conj(R(-k)) (second block)
                    direct = k1 < h1
                    col = np.where(direct, k0 * h1 + k1,
                                   nh + ((-k0) % n0) * h1 + (n1 - k1) % n1)
                    f_rows.append(slot)
                    f_cols.append(col)
                    f_vals.append(fscale * vals)
                    # backward: H(k') = (G(k') + conj(G(-k'))) / 2 on the half grid
                    b_rows.append(k0[direct] * h1 + k1[direct])
                    b_cols.append(slot[direct])
                    b_vals.append(0.5 * bscale * vals[direct])
                    mk1 = (-k1) % n1
                    mirror = mk1 < h1
                    b_rows.append(nh + ((-k0[mirror]) % n0) * h1 + mk1[mirror])
                    b_cols.append(slot[mirror])
                    b_vals.append(0.5 * bscale * vals[mirror])
                    sizes.append(m)
                    offset += m
            self.wedge_sizes.append(sizes)
        self.n_coefficients = offset
        cat = np.concatenate
        self._forward = sp.csr_matrix(
            (cat(f_vals), (cat(f_rows), cat(f_cols))), shape=(offset, 2 * nh))
        self._backward = sp.csr_matrix(
            (cat(b_vals), (cat(b_rows), cat(b_cols))), shape=(2 * nh, offset))
        # merge consecutive (scale, direction) groups on the same decimated grid
        batches = []
        for off, count, small in groups:
            if batches and batches[-1][2] == small:
                batches[-1][1] += count
            else:
                batches.append([off, count, small])
        self._batches = [(off, count, small) for off, count, small in batches]
        # work arrays reused between calls (fresh ones cost page faults on large grids)
        self._spectrum = np.empty((2 * nh, 2))
        self._coefficients = np.empty(offset, dtype=np.complex128)

    @property
    def nnz(self) -> int:
        """Nonzeros of the forward sparse product (window samples of all wedges)."""
        return int(self._forward.nnz)

    def forward(self, image: np.ndarray) -> np.ndarray:
        """Complex coefficients of a real image, in the library's ``vect`` order.

        Parameters
        ----------
        image : ndarray of float, shape :attr:`shape`

        Returns
        -------
        ndarray of complex128, shape (n_coefficients,)
        """
        return _forward_from(self, self.half_spectrum(image))

    def half_spectrum(self, image: np.ndarray) -> np.ndarray:
        """The ``rfft2`` of a real image, shape (n0, n1 // 2 + 1), complex: the input of
        every wedge (:meth:`part`)."""
        return scipy.fft.rfft2(np.asarray(image, dtype=np.float64), workers=self.workers)

    def image_from_half(self, half: np.ndarray) -> np.ndarray:
        """The real image of a Hermitian part's half spectrum: ``irfft2`` (the last step of
        :meth:`backward`, applied once to the sum of the parts' :meth:`FastUDCTPart.backward`)."""
        return scipy.fft.irfft2(half, s=self.shape, workers=self.workers)

    @property
    def wedge_offsets(self) -> np.ndarray:
        """Start of every wedge in the coefficient vector, and the end: length wedges + 1."""
        sizes = [n for scale in self.wedge_sizes for n in scale]
        return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])

    def part(self, lo: int, hi: int) -> "FastUDCTPart":
        """The wedges whose coefficients are ``lo:hi`` (wedge boundaries, see
        :attr:`wedge_offsets`): a transform of that slice of the coefficients alone."""
        return FastUDCTPart(self, lo, hi)

    def backward(self, coefficients: np.ndarray) -> np.ndarray:
        """Real image from complex coefficients: the library's ``backward`` (= adjoint).

        Parameters
        ----------
        coefficients : ndarray of complex, shape (n_coefficients,)

        Returns
        -------
        ndarray of float64, shape :attr:`shape`
        """
        coefficients = np.asarray(coefficients).ravel()
        if coefficients.size != self.n_coefficients:
            raise ValueError(f"FastUDCT.backward: expected {self.n_coefficients} "
                             f"coefficients, got {coefficients.size}")
        spectra = self._coefficients
        spectra[...] = coefficients
        _batched(self._batches, spectra, scipy.fft.fft2, self.workers)
        return self.image_from_half(_half_from(self._backward, spectra, self._half))


class FastUDCTPart:
    """The wedges of a :class:`FastUDCT` whose coefficients are ``lo:hi``.

    Parameters
    ----------
    transform : FastUDCT
    lo, hi : int
        Coefficient range; both must be wedge boundaries (:attr:`FastUDCT.wedge_offsets`).

    Notes
    -----
    The forward transform is linear in the rows of :math:`M_f` and the small inverse FFTs act
    wedge by wedge, so the coefficients ``lo:hi`` need only the rows ``lo:hi`` of
    :math:`M_f` and the FFTs of these wedges. The backward transform is a sum over wedges
    before the one ``irfft2``:

    .. math:: H_h = \\sum_p H_h^{(p)}, \\qquad x = \\mathcal{F}^{-1} H_h,

    with :math:`H_h^{(p)}` the half spectrum of part p (columns ``lo:hi`` of :math:`M_b`).
    A set of parts that covers every wedge once therefore gives the whole transform: the
    forward coefficients exactly (the same rows, the same FFTs), the backward image to
    the summation order of the half spectra. This splits the image term across ranks with
    one reduction (sum) of half spectra per application.
    """

    def __init__(self, transform: FastUDCT, lo: int, hi: int) -> None:
        offsets = transform.wedge_offsets
        if not (0 <= lo <= hi <= transform.n_coefficients and lo in offsets and hi in offsets):
            raise ValueError(f"FastUDCTPart: {lo}:{hi} is not a range of whole wedges of "
                             f"{transform.n_coefficients} coefficients")
        self.lo, self.hi = int(lo), int(hi)
        self.shape = transform.shape
        self.workers = transform.workers
        self._half = transform._half
        self._forward = transform._forward[lo:hi]
        self._backward = transform._backward[:, lo:hi].tocsr()
        self._batches = []
        for off, count, (a, b) in transform._batches:
            first = max(off, lo)
            last = min(off + count * a * b, hi)
            if last > first:
                self._batches.append((first - lo, (last - first) // (a * b), (a, b)))
        self._spectrum = np.empty((2 * transform._half[0] * transform._half[1], 2))

    @property
    def n_coefficients(self) -> int:
        """Complex coefficients of this part: ``hi - lo``."""
        return self.hi - self.lo

    def forward(self, half: np.ndarray) -> np.ndarray:
        """Coefficients ``lo:hi`` of the image whose ``rfft2`` is ``half``
        (:meth:`FastUDCT.half_spectrum`); complex, shape (hi - lo,)."""
        return _forward_from(self, half)

    def backward(self, coefficients: np.ndarray) -> np.ndarray:
        """This part's half spectrum :math:`H_h^{(p)}` of coefficients ``lo:hi`` (complex,
        shape (n0, n1 // 2 + 1)); :meth:`FastUDCT.image_from_half` of the sum over parts is
        :meth:`FastUDCT.backward`. ``coefficients`` is overwritten."""
        spectra = np.ascontiguousarray(coefficients, dtype=np.complex128).ravel()
        if spectra.size != self.n_coefficients:
            raise ValueError(f"FastUDCTPart.backward: expected {self.n_coefficients} "
                             f"coefficients, got {spectra.size}")
        return _half_from(self._backward, self._small_ffts(spectra, scipy.fft.fft2),
                          self._half)

    def _small_ffts(self, coeffs: np.ndarray, fft) -> np.ndarray:
        return _batched(self._batches, coeffs, fft, self.workers)


def _batched(batches, coeffs: np.ndarray, fft, workers: int) -> np.ndarray:
    """Apply ``fft`` (``ifft2`` or ``fft2``) in place to every batch of equal wedge grids."""
    for off, count, (a, b) in batches:
        block = coeffs[off: off + count * a * b].reshape(count, a, b)
        _store(block, fft(block, axes=(-2, -1), overwrite_x=True, workers=workers))
    return coeffs


def _forward_from(transform, half: np.ndarray) -> np.ndarray:
    """Coefficients of ``transform`` (a FastUDCT or a part) from the ``rfft2`` ``half``: the
    sparse product with the stacked half spectrum and its conjugate, then the small FFTs."""
    nh = half.size
    both = transform._spectrum
    both[:nh] = np.ascontiguousarray(half).view(np.float64).reshape(nh, 2)
    both[nh:, 0] = both[:nh, 0]
    np.negative(both[:nh, 1], out=both[nh:, 1])
    coeffs = np.ascontiguousarray(transform._forward @ both).view(np.complex128).ravel()
    return _batched(transform._batches, coeffs, scipy.fft.ifft2, transform.workers)


def _half_from(backward, spectra: np.ndarray, half_shape) -> np.ndarray:
    """The Hermitian half spectrum :math:`H_h = H_1 + \\overline{H_2}` of the FFT'd
    coefficients ``spectra`` through the backward sparse matrix."""
    both = np.ascontiguousarray(backward @ spectra.view(np.float64).reshape(-1, 2))
    nh = both.shape[0] // 2
    both[:nh, 0] += both[nh:, 0]
    both[:nh, 1] -= both[nh:, 1]
    return both[:nh].view(np.complex128).reshape(half_shape)


def _store(block: np.ndarray, result: np.ndarray) -> None:
    """Put an FFT's result into ``block`` unless the FFT already worked in place (scipy does
    for ``overwrite_x`` on contiguous complex input: the copy would double the FFTs' memory
    traffic on large grids)."""
    if not np.shares_memory(block, result):
        block[...] = result

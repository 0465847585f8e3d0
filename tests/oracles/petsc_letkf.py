r"""PETSc's LETKF (``PetscDA``, type ``letkf``) through ctypes, as an independent test oracle.

PETSc 3.26 ships an LETKF in its C library (``include/petscda.h``; "new code, please
independently verify all results") that petsc4py does not wrap. This module calls it through
ctypes on the library petsc4py has already loaded; the vectors and matrices are made with
petsc4py and handed over by their C pointer (``.handle``). It lives in ``tests/``: landia's
``src/`` imports petsc4py only in ``analysis/minimisers/tao.py``.

**What PETSc computes** (``src/ml/da/impls/ensemble/letkf/letkfilter.c``,
``impls/ensemble/daensemble.c``; checked against a dense ETKF in
``tests/unit/analysis/test_letkf_oracle.py``). With :math:`m` members :math:`E` (state x
:math:`m`), their mean :math:`\bar x`, the scaled anomalies :math:`X = (E - \bar x 1^T) /
\sqrt{m-1}`, :math:`Z = H E`, :math:`\bar y = H \bar x`, at every vertex with local
observations :math:`\ell` and localisation weights :math:`\rho_\ell`:

.. math::
    S &= \tilde R^{-1/2} (Z_\ell - \bar y_\ell 1^T) / \sqrt{m-1}, \qquad
    \tilde R^{-1/2} = \mathrm{diag}(\sqrt{\rho_\ell / r_\ell}), \qquad
    \delta = \tilde R^{-1/2} (y^o_\ell - \bar y_\ell), \\
    T &= \rho^{-1} I + S^T S = V D V^T, \qquad w = T^{-1} S^T \delta, \\
    E_a &= \bar x 1^T + X \left(w 1^T + \sqrt{m-1}\, V D^{-1/2} V^T\right),

which is Hunt et al. (2007) with the symmetric square root and multiplicative prior inflation
:math:`\rho` placed as :math:`(m-1) I / \rho` (``PetscDAEnsembleSetInflation``, :math:`\rho
\ge 1`). Conventions worth knowing:

* :math:`H` must be a linear AIJ matrix on the full state (:math:`\bar y = H \bar x`); this
  binding also accepts the members' model equivalents :math:`y_b` (``(N, n_obs)``) by appending
  them to the state as extra vertices that a selection :math:`H` reads (their own analysis is
  discarded). The update of the original state is the same: it depends only on :math:`Z` and
  :math:`\bar y`, which are then the given :math:`y_b` and their mean.
* Localisation is by Euclidean distance between vertex coordinates (1 to 3 dimensions, each
  optionally periodic); the observations sit at :math:`H_v \cdot xyz` with :math:`H_v` an
  observation operator on the *vertices* (``n_obs x n_vertices``, not the multi-DOF one).
  Gaspari-Cohn has half-width ``radius`` (support ``2 radius``), as landia's ``length_km``.
* A vertex with no observation in its support has :math:`T = \rho^{-1} I`, :math:`w = 0`: its
  members come back as :math:`\bar x + \sqrt{\rho}\,(x - \bar x)` (unchanged, to rounding,
  for :math:`\rho = 1`). Vertices with fewer local observations than members are analysed
  normally (an earlier development version of this code refused them; 3.26.1 does not).
"""

from __future__ import annotations

import ctypes

import numpy as np
import scipy.sparse as sp

KERNELS = {None: 0, "gaspari_cohn": 1, "gaussian": 2, "boxcar": 3}   # PetscDALETKFLocalizationType


def available() -> tuple[bool, str]:
    """Whether PETSc's LETKF can be called here, and if not, why."""
    try:
        # function-level: optional test dependencies
        from mpi4py import MPI  # noqa: F401
        from petsc4py import PETSc  # noqa: F401
    except ImportError as exc:
        return False, f"petsc4py/mpi4py not importable: {exc}"
    if not hasattr(_library(), "PetscDACreate"):
        return False, ("the PETSc library petsc4py loaded has no PetscDACreate "
                       "(PetscDA/LETKF needs PETSc >= 3.26)")
    return True, ""


def _library() -> ctypes.CDLL:
    # The petsc4py extension module links libpetsc; dlsym through its handle finds PETSc's
    # symbols in the copy already loaded (libpetsc.so itself may be a linker script).
    from petsc4py import PETSc  # function-level: optional test dependency
    return ctypes.CDLL(PETSc.__file__)


class _Petsc:
    """The C calls used here, each checked (a non-zero PetscErrorCode raises)."""

    def __init__(self):
        from mpi4py import MPI  # function-level: optional test dependency
        from petsc4py import PETSc
        self.PETSc = PETSc
        self.lib = _library()
        self.Int = {4: ctypes.c_int32, 8: ctypes.c_int64}[np.dtype(PETSc.IntType).itemsize]
        comm_t = ctypes.c_int if MPI._sizeof(MPI.Comm) == 4 else ctypes.c_void_p
        self.comm_self = comm_t(MPI._handleof(PETSc.COMM_SELF.tompi4py()))

    def __call__(self, name: str, *args) -> None:
        fn = getattr(self.lib, name)
        fn.restype = ctypes.c_int
        code = fn(*args)
        if code:
            text = ctypes.c_char_p()
            self.lib.PetscErrorMessage(code, ctypes.byref(text), None)
            raise RuntimeError(f"PETSc {name} failed: error {code} "
                               f"({(text.value or b'').decode()}); PETSc's own message is "
                               "on stderr")


def _vec(PETSc, values):
    v = PETSc.Vec().createSeq(len(values), comm=PETSc.COMM_SELF)
    v.setArray(np.ascontiguousarray(values, dtype=float))
    return v


def _aij(PETSc, matrix):
    a = sp.csr_matrix(matrix, dtype=float)
    a.sort_indices()
    idx = np.dtype(PETSc.IntType)
    return PETSc.Mat().createAIJ(size=a.shape, comm=PETSc.COMM_SELF,
                                 csr=(a.indptr.astype(idx), a.indices.astype(idx), a.data))


def petsc_letkf(xb, yb_or_h, yo, r_var, coords=None, radius=None, *, obs_coords=None,
                periods=None, inflation: float = 1.0, kernel: str | None = "gaspari_cohn",
                h_vertex=None) -> np.ndarray:
    """PETSc's LETKF analysis of one ensemble (serial, ``PETSC_COMM_SELF``).

    Parameters
    ----------
    xb : array_like, shape (N, n_vertices, ndof) or (N, n_state)
        Background members (a 2-D ``xb`` is ``ndof = 1``). PETSc orders the state vertex-major,
        the ``ndof`` values of a vertex adjacent, which is ``xb[m].ravel()``.
    yb_or_h : scipy.sparse matrix (n_obs, n_state) or ndarray (N, n_obs)
        A sparse matrix is the linear observation operator :math:`H` on the flattened state;
        a dense array is the members' model equivalents :math:`y_b`.
    yo, r_var : array_like, shape (n_obs,)
        Observations and their error variances.
    coords : array_like, shape (n_vertices,) or (n_vertices, dim), optional
        Vertex coordinates for the localisation (Euclidean, the unit of ``radius``). ``None``:
        no localisation (``PETSCDA_LETKF_LOC_NONE``, every observation at weight 1).
    radius : float, optional
        The kernel's radius; Gaspari-Cohn's half-width (support ``2 radius``).
    obs_coords : array_like, shape (n_obs,) or (n_obs, dim)
        Observation coordinates; required with ``y_b`` and localisation.
    periods : sequence of float, optional
        Period of each coordinate (0: not periodic), e.g. the circumference of a ring.
    inflation : float
        PETSc's multiplicative inflation :math:`\\rho \\ge 1`.
    kernel : {"gaspari_cohn", "gaussian", "boxcar"}
        The localisation kernel (with ``coords``).
    h_vertex : scipy.sparse matrix (n_obs, n_vertices), optional
        With :math:`H` and localisation: where the observations are, :math:`H_v \\cdot xyz`.
        Default: :math:`H` summed over each vertex's DOFs, which for a selection (or a
        convex interpolation) puts each observation at the vertex (or the mean position) read.

    Returns
    -------
    ndarray, shape of ``xb``
        PETSc's analysis members.
    """
    xb = np.asarray(xb, dtype=float)
    shape = xb.shape
    xb3 = xb[..., None] if xb.ndim == 2 else xb
    n_members, n_vert, ndof = xb3.shape
    yo = np.asarray(yo, float).ravel()
    r_var = np.asarray(r_var, float).ravel()
    n_obs = yo.size
    localised = coords is not None
    if localised:
        coords = np.asarray(coords, float).reshape(n_vert, -1)
        if radius is None or kernel not in KERNELS or kernel is None:
            raise ValueError(f"localisation needs a radius and a kernel in "
                             f"{[k for k in KERNELS if k]}; got radius={radius}, kernel={kernel}")

    if sp.issparse(yb_or_h):
        h = sp.csr_matrix(yb_or_h, dtype=float)
        if h.shape != (n_obs, n_vert * ndof):
            raise ValueError(f"H: expected shape {(n_obs, n_vert * ndof)}; got {h.shape}")
        state = xb3.reshape(n_members, -1)
        if localised and h_vertex is None:
            h_vertex = sp.csr_matrix(
                h @ sp.kron(sp.identity(n_vert), np.ones((ndof, 1))))
    else:
        yb = np.asarray(yb_or_h, dtype=float)
        if yb.shape != (n_members, n_obs):
            raise ValueError(f"yb: expected shape {(n_members, n_obs)}; got {yb.shape}")
        # The y_b become n_obs extra vertices (DOF 0 holds y_b, the others 0) read by a
        # selection H; they do not change the update of the original vertices.
        extra = np.zeros((n_members, n_obs, ndof))
        extra[:, :, 0] = yb
        state = np.concatenate([xb3, extra], axis=1).reshape(n_members, -1)
        rows = np.arange(n_obs)
        h = sp.csr_matrix((np.ones(n_obs), (rows, (n_vert + rows) * ndof)),
                          shape=(n_obs, (n_vert + n_obs) * ndof))
        if localised:
            if obs_coords is None:
                raise ValueError("obs_coords: required with y_b and localisation")
            coords = np.vstack([coords, np.asarray(obs_coords, float).reshape(n_obs, -1)])
            h_vertex = sp.csr_matrix((np.ones(n_obs), (rows, n_vert + rows)),
                                     shape=(n_obs, n_vert + n_obs))
    if localised and not 1 <= coords.shape[1] <= 3:
        raise ValueError(f"coords: 1 to 3 dimensions; got {coords.shape[1]}")

    call = _Petsc()
    PETSc, Int, ptr = call.PETSc, call.Int, ctypes.c_void_p
    n_state = state.shape[1]
    owned = []                          # petsc4py objects made here, destroyed at the end
    da = ptr()
    PETSc.Sys.pushErrorHandler("traceback")     # PETSc's message on stderr when a call fails
    try:
        call("PetscDACreate", call.comm_self, ctypes.byref(da))
        call("PetscDASetType", da, b"letkf")
        call("PetscDASetSizes", da, Int(n_state), Int(n_obs))
        call("PetscDASetNDOF", da, Int(ndof))
        call("PetscDAEnsembleSetSize", da, Int(n_members))
        call("PetscDAEnsembleSetInflation", da, ctypes.c_double(inflation))
        call("PetscDALETKFSetLocalizationType", da, ctypes.c_int(KERNELS[kernel if localised
                                                                         else None]))
        call("PetscDASetUp", da)
        owned.append(_vec(PETSc, r_var))
        call("PetscDASetObsErrorVariance", da, ptr(owned[-1].handle))
        for m in range(n_members):
            owned.append(_vec(PETSc, state[m]))
            call("PetscDAEnsembleSetMember", da, Int(m), ptr(owned[-1].handle))
        owned.append(_aij(PETSc, h))
        h_mat = owned[-1]
        if localised:
            xyz = (ptr * 3)()
            for d in range(coords.shape[1]):
                owned.append(_vec(PETSc, coords[:, d]))
                xyz[d] = owned[-1].handle
            bd = None
            if periods is not None:
                bd = (ctypes.c_double * 3)(*(list(periods) + [0.0] * (3 - len(periods))))
            owned.append(_aij(PETSc, h_vertex))
            call("PetscDALETKFSetLocalizationRadius", da, ctypes.c_double(radius))
            call("PetscDALETKFSetLocalizationCoordinates", da, xyz, bd, ptr(owned[-1].handle))
        owned.append(_vec(PETSc, yo))
        call("PetscDAEnsembleAnalysis", da, ptr(owned[-1].handle), ptr(h_mat.handle))

        xa = np.empty_like(state)
        for m in range(n_members):
            member, values = ptr(), ctypes.POINTER(ctypes.c_double)()
            call("PetscDAEnsembleGetMember", da, Int(m), ctypes.byref(member))
            call("VecGetArrayRead", member, ctypes.byref(values))
            xa[m] = np.ctypeslib.as_array(values, shape=(n_state,))
            call("VecRestoreArrayRead", member, ctypes.byref(values))
            call("PetscDAEnsembleRestoreMember", da, Int(m), ctypes.byref(member))
    finally:
        if da:
            call("PetscDADestroy", ctypes.byref(da))
        for obj in owned:
            obj.destroy()
        PETSc.Sys.popErrorHandler()
    return xa[:, :n_vert * ndof].reshape(shape)

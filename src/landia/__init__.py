"""landia: land-surface image data assimilation.

CoLM soil columns, domain-decomposed over MPI ranks, corrected every analysis
time by a 3D-Var whose cost J = JB + JO + JI includes an *image* term measured
in curvelet space (Shen et al., GMD 17, 3447, 2024).

The package reads in the order of one assimilation cycle, driven by ``landia.cycling``::

    columns -> exchange -> analysis -> exchange -> checkpoint

fed by ``landia.forcing`` and ``landia.observations``; ``landia.cli`` and ``landia.commands``
are the ``landia`` program. Which package may import which: ``docs/architecture.md``.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# Reproducibility: landia is parallel over MPI ranks, not BLAS threads. Threaded
# OpenBLAS reductions made two identical analyses differ by 6e-14 (measured), which
# would break bit-for-bit restarts. One thread per process unless the user chose.
# (Effective for libraries loaded after this import: PETSc always, numpy if first.)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    __version__ = version("landia")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

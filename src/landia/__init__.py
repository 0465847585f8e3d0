"""landia: land-surface image data assimilation.

CoLM soil columns, domain-decomposed over MPI ranks, corrected every analysis
time by a 3D-Var whose cost J = JB + JO + JI includes an *image* term measured
in curvelet space (Shen et al., GMD 17, 3447, 2024).

The package reads in the order of one assimilation cycle, driven by ``landia.cycling``::

    columns -> exchange -> analysis -> exchange -> checkpoint

fed by ``landia.forcing`` and ``landia.observations``; ``landia.cli`` and ``landia.commands``
are the ``landia`` program. Which package may import which: ``docs/architecture.md``.

Library use (``docs/api.md``)::

    import landia
    result = landia.analyse("background.nc", "obs.nc", "image3dvar")
    result.analysis_field                      # (layers, lat, lon)
    field = landia.read_field("background.nc")
    landia.write_field("copy.nc", field)

The names of :mod:`landia.api` (:data:`__all__`) load on first use, so that ``import landia``
stays light. Importing landia changes no environment variable; the ``landia`` program sets
one BLAS/OpenMP thread per process (:func:`landia.cli.one_thread_per_process`), which a
library user may do before importing numpy for bit-for-bit identical results.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("landia")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

#: The public interface, from :mod:`landia.api`.
_API = ("analyse", "read_field", "write_field", "read_analysis", "write_analysis",
        "load_settings", "Settings", "SoilMoistureField", "AnalysisResult")

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        # On first use, not on import: the analysis stack is heavy, and the modules that read
        # landia.__version__ (file stamps) import this package, which must not import them.
        return getattr(import_module("landia.api"), name)
    raise AttributeError(f"module 'landia' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_API))

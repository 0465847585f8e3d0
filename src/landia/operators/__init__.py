"""Linear operators of the image analysis, each a :class:`pylops.LinearOperator`.

========================  =====================================================
``HarmonicEmbedding``     E: values on valid cells -> full rectangle, smooth fill
``CurveletTransform``     C: 2-D curvelet transform (UDCT), real in and out
``CoefficientSelection``  P: keep the largest ``sigma`` fraction of coefficients
``PointSelection``        H: point observations on model cells
``DiffusionCorrelation``  C = U U^T: land-aware correlation (implicit diffusion)
========================  =====================================================

Physics and operators never import MPI, files or the CLI.
"""

from landia.operators.checks import dot_test, taylor_test
from landia.operators.correlation import DiffusionCorrelation, diffusion_correlation
from landia.operators.curvelet import CurveletTransform
from landia.operators.embedding import HarmonicEmbedding
from landia.operators.pointobs import PointSelection
from landia.operators.selection import CoefficientSelection

__all__ = [
    "CoefficientSelection",
    "CurveletTransform",
    "DiffusionCorrelation",
    "HarmonicEmbedding",
    "PointSelection",
    "diffusion_correlation",
    "dot_test",
    "taylor_test",
]

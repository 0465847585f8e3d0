"""The image 3D-Var analysis: cost terms, cost function, minimisers, driver."""

from landia.analysis.analyse import AnalysisResult, build_problem, run_analysis

__all__ = ["AnalysisResult", "build_problem", "run_analysis"]

"""Verification scores of soil-moisture fields (SCC, RMSE)."""

from landia.verification.scores import rmse, spatial_correlation

__all__ = ["rmse", "spatial_correlation"]

"""Observations: soil-moisture products read on their own grids, quality-controlled, and
mapped to the model grid (horizontally by conservative regridding, vertically by depth
ranges). I/O lives in the product readers; ``regrid``, ``vertical`` and ``qc`` are arithmetic."""

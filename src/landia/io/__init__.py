"""File formats: model-grid field files (netCDF, CF) and atomic writes."""

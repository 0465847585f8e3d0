"""The land model: many independent CoLM2014 soil columns stepped together with numpy.

Physics only: nothing here imports MPI, file I/O, the CLI or the analysis. Arrays of per-layer
quantities are shaped ``(N, nlayer)``: N columns, CoLM's 10 soil layers top to bottom.
"""

from landia.columns.runoff import base_flow, max_infiltration, saturated_fraction, surface_runoff
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import SoilWaterResult, soil_water_step
from landia.columns.transpiration import root_water_stress
from landia.columns.tridiagonal import solve_tridiagonal

__all__ = [
    "SoilParameters",
    "SoilWaterResult",
    "base_flow",
    "max_infiltration",
    "root_water_stress",
    "saturated_fraction",
    "soil_water_step",
    "solve_tridiagonal",
    "surface_runoff",
]

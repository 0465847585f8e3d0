"""The assimilation cycle: clock, per-rank columns, the loop, its outputs."""

"""Exceptions raised by landia.

Every error says what was found, where (file, variable, key) and what was
expected, so that an operator can fix the input without reading the code.
"""


class LandiaError(Exception):
    """Base class of all landia errors; the CLI turns it into exit status 2."""


class ConfigError(LandiaError):
    """A configuration file or value is invalid (unknown key, wrong type, out of range)."""


class InputError(LandiaError):
    """An input file or array is missing, truncated or inconsistent (NaN, units, shape)."""


class OperatorError(LandiaError):
    """A linear operator cannot be built or applied to the given data."""


class MinimisationError(LandiaError):
    """The minimiser diverged or stopped for a reason that is not convergence."""

"""Independent implementations that the tests compare landia with (never imported by src/)."""

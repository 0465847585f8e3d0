"""``python -m landia``: same as the ``landia`` console script."""

from landia.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

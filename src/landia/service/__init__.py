"""Near-real-time operation: ``landia serve``, the scheduler that feeds and launches cycles.

:mod:`landia.service.scheduler` holds the logic (with an injectable clock and launcher) and
:mod:`landia.service.commands` the command line; the contract is in ``docs/serve.md``.
Nothing is imported here, so that building ``landia``'s parser stays cheap.
"""

"""labopt's coordinator service (FastAPI). Thin: it validates, authorises, stores and calls
the labopt library. Import name: ``labopt_api``; run it with ``labopt serve``."""

__version__ = "0.1.0"

"""labopt's coordinator service (FastAPI). Thin: it validates, authorises, stores and calls
the labopt library. Import name: ``labopt_api``; run it with ``labopt serve``."""

from labopt import __version__ as __version__  # the version is defined once, in labopt

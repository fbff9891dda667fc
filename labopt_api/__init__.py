"""labopt's coordinator service (FastAPI). Thin: it validates, authorises, stores and calls
the labopt library. Run it with ``labopt serve``.

The folder is the import name, ``labopt_api/`` (it was ``api/``, mapped to this name by
setup.py): one name for readers and for Python. Its layers, each importing only those below:

- ``routers/``: the HTTP endpoints, one module per resource; they never import each other;
- ``deps``, ``errors``, ``paging``, ``responses``: what every router uses (the session and
  the caller's key, error bodies, paged lists, table downloads);
- ``store/``: the data layer, one module per resource (create, read, list filtered in SQL to
  what a key may see, replace, delete);
- ``jobs`` and ``planrun``: the plan queue's workers and the child process that solves a plan;
- ``models``, ``schemas``, ``security``, ``stored_text``, ``uploads``, ``settings``, ``db``:
  storage models, request and response schemas, keys and roles, checks on stored text and
  uploaded files, settings, the database and its migrations.
"""

from labopt import __version__ as __version__  # the version is defined once, in labopt

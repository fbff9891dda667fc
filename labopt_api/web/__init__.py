"""The web app served by ``labopt serve`` at ``/``: pages for the people who are not at a
terminal, on the same keys, roles and stores as the API (labopt_api.routers).

Server-rendered HTML (Jinja2 templates in ``templates/``) with plain forms: no script is
needed, no build step, and nothing loads from outside the service (its one stylesheet is in
``labopt_api/static/web``). Sign-in takes an API key and keeps it in an HttpOnly, SameSite
cookie; every form carries a token derived from it (:mod:`labopt_api.web.session`).
"""

from labopt_api.web.pages import router

__all__ = ["router"]

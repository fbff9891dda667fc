"""The web app served by ``labopt serve`` at ``/``: pages for the people who are not at a
terminal, on the same keys, roles and stores as the API (labopt_api.routers).

Server-rendered HTML (Jinja2 templates in ``templates/``) with plain forms: no script is
needed, no build step, and nothing loads from outside the service (its one stylesheet is in
``labopt_api/static/web``). Sign-in takes an API key and keeps it in an HttpOnly, SameSite
cookie; every form carries a token derived from it (:mod:`labopt_api.web.session`). Every
page checks its visitor server-side with the API's rules, and a form is saved by the API's
own handler or store function for the same records, so the two cannot disagree on what is
valid.
"""

from fastapi import APIRouter

from labopt_api.web import batches, home, lab_day, plans, unit_day

router = APIRouter(include_in_schema=False)
for _pages in (home, unit_day, lab_day, plans, batches):
    router.include_router(_pages.router)

__all__ = ["router"]

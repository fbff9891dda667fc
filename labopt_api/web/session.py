"""Sign-in for the pages: the API key in a cookie, a token against cross-site forms.

The cookie holds the key itself (HttpOnly: no script reads it; SameSite=Strict: no other site
sends it; Secure when the page came over HTTPS), so a revoked key signs its pages out at once
and no session table is needed. Each form carries a token derived from the key; a POST
without the right one is refused (a second guard beside SameSite).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from labopt_api.deps import known_key
from labopt_api.protection import FailedAuth
from labopt_api.security import Principal

COOKIE = "labopt_key"
LANG_COOKIE = "labopt_lang"
MAX_AGE = 12 * 3600  # seconds: a working day; then the key is asked again


def form_token(key: str) -> str:
    """The token a signed-in user's forms carry (hex)."""
    return hmac.new(key.encode(), b"labopt web form", hashlib.sha256).hexdigest()


def token_ok(request: Request, token: str) -> bool:
    key = request.cookies.get(COOKIE, "")
    return bool(key) and hmac.compare_digest(form_token(key), token)


async def signed_in(request: Request) -> tuple[Principal, str] | None:
    """The caller's principal and key from the cookie (None: not signed in, a key that is no
    longer valid, or a client braked for failed authentications: a cookie is a key tried as
    any other, and counts as a failure when it is wrong)."""
    key = request.cookies.get(COOKIE)
    if not key or retry_after(request) is not None:
        return None
    who = await known_key(request, key)
    if who is None:
        failures: FailedAuth = request.app.state.failed_auth
        failures.failed(request.client.host if request.client else "-")
        return None
    return who, key


def from_this_site(request: Request) -> bool:
    """Whether a form was sent from one of this service's pages: the browser's Sec-Fetch-Site
    says so, or its Origin is this host; a client that sends neither (not a browser) passes.
    Keeps another site from signing a user in under its own key or posting a form."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


async def check_key(request: Request, key: str) -> Principal | None:
    """The principal of a key typed into the sign-in form; a wrong one counts against the
    client as a failed authentication does in the API."""
    failures: FailedAuth = request.app.state.failed_auth
    client = request.client.host if request.client else "-"
    who = await known_key(request, key) if key else None
    if who is None:
        failures.failed(client)
    return who


def retry_after(request: Request) -> int | None:
    failures: FailedAuth = request.app.state.failed_auth
    return failures.retry_after(request.client.host if request.client else "-")


def sign_in(request: Request, response: Response, key: str) -> None:
    response.set_cookie(
        COOKIE,
        key,
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")

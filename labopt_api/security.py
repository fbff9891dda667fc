"""API keys (stored hashed) and what each role may do.

Roles and scopes:
- ``admin``: everything, including keys;
- ``coordinator``: everything in the scenarios of its provinces (scope: province codes, or "*");
- ``district``: submits the daily input of its units (scope: "province/district" codes);
- ``lab``: reads the plans of its province, restricted to its own lab (scope: "province/lab").
Keys go in ``Authorization: Bearer <key>`` (or ``X-API-Key``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, status

from labopt.errors import InputError

ROLES = ("admin", "coordinator", "district", "lab")
PREFIX = "lbo_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """Keys are long random strings, so a plain SHA-256 is a safe one-way store."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(role: str, scopes: list[str]) -> list[str]:
    """Validate a key's scopes for its role; InputError names what is allowed."""
    if role not in ROLES:
        raise InputError(f"role: one of {', '.join(ROLES)}, got {role!r}", "role")
    scopes = [s.strip() for s in scopes if s.strip()]
    if role in ("district", "lab") and (
        not scopes or any(s.count("/") != 1 or "" in s.split("/") for s in scopes)
    ):
        raise InputError(
            f"scope: a {role} key needs one or more 'province/{role}' codes, "
            f"e.g. thanh_hoa/{'bim-son' if role == 'district' else 'th-cdc'}",
            "scopes",
        )
    if role == "coordinator" and not scopes:
        raise InputError("scope: a coordinator key needs province codes (or '*')", "scopes")
    return scopes


@dataclass(frozen=True)
class Principal:
    key_id: int
    role: str
    scopes: tuple[str, ...]

    def is_admin(self) -> bool:
        return self.role == "admin"

    def coordinates(self, province: str) -> bool:
        return self.is_admin() or (
            self.role == "coordinator" and ("*" in self.scopes or province in self.scopes)
        )

    def units(self, province: str) -> set[str]:
        """District codes a district key may report for, in this province."""
        return {s.split("/")[1] for s in self.scopes if s.split("/")[0] == province}

    def lab_ids(self, province: str) -> set[str]:
        return self.units(province) if self.role == "lab" else set()

    def speaks_for(self, province: str, code: str) -> bool:
        """May report for (and read the input of) unit ``code``: the province's coordinators
        and the unit's district keys."""
        return self.coordinates(province) or (
            self.role == "district" and code in self.units(province)
        )


def forbidden(what: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this key may not {what}")


def require_coordinator(p: Principal, province: str, what: str) -> None:
    if not p.coordinates(province):
        raise forbidden(what)

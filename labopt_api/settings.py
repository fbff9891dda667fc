"""Service settings, from the environment (prefix LABOPT_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABOPT_", extra="ignore")

    database_url: str = Field(
        "sqlite:///labopt.db",
        description="SQLAlchemy URL; SQLite file by default, e.g. "
        "postgresql+psycopg://user@127.0.0.1:5432/labopt for PostgreSQL",
    )
    max_body_mb: float = Field(20.0, gt=0, description="largest request body accepted (MB)")
    plan_queue_size: int = Field(8, ge=1, description="plans waiting at most; more gets 429")
    plan_workers: int = Field(
        1,
        ge=0,
        le=16,
        description="plans solved at once by each server process; 0: this "
        "server only queues plans, another one solves them",
    )
    plan_time_limit_seconds: float = Field(
        60.0,
        gt=0,
        description="a plan job's time limit (s), every step from loading the "
        "scenario to the check; the solver gets what remains",
    )
    plan_memory_mb: int = Field(
        4096, ge=256, description="address space of a plan job's process (MB)"
    )
    heartbeat_seconds: float = Field(1.0, gt=0, description="running jobs report this often")
    stale_after_seconds: float = Field(
        5.0, gt=0, description="a running job silent this long has died"
    )
    auth_failures_per_minute: int = Field(
        20,
        ge=1,
        description="failed authentications from one client address in a minute "
        "before it gets 429 (counted per server process)",
    )

    @property
    def max_body_bytes(self) -> int:
        """The request body limit in bytes (also the largest scenario stored)."""
        return int(self.max_body_mb * 1024 * 1024)


@lru_cache
def get_settings() -> ServiceSettings:
    return ServiceSettings()  # the fields come from the environment

"""One typed settings object, read from ``SGL_*`` environment variables and the CLI."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SGL_", extra="ignore")

    mongodb_uri: str | None = None
    """Production MongoDB (replica set). Unset: the embedded SecantusDB of ``data_dir`` is used."""
    database: str = "opensgl"
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: int = 8080
    mllp_port: int = 2575
    astm_port: int = 2576
    client_id: str = "sgl-local"
    """Who the audit trail names until Pro Santé Connect login exists."""
    client_role: str = "biologiste"
    """The habilitation profile of that client (see server/identity for the roles)."""
    public_base_url: str | None = None
    """Base URL written in Bundle links and Location headers; default: from the request."""
    test_mode: bool = False

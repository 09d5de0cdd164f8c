"""Dockyard's settings: environment variables ``DOCKYARD_*`` over a YAML config file over defaults.

The config file is ``$DOCKYARD_CONFIG`` if set, else ``~/.config/dockyard/config.yaml`` if it exists.
Settings are built once by the entry point and passed down explicitly; nothing reads them at import.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from dockyard.local_paths import config_file
from dockyard.local_paths import state_dir as _state_dir

__all__ = ["Settings", "config_file"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKYARD_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{_state_dir() / 'dockyard.db'}",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    cluster_health_timeout: float = Field(default=3.0, gt=0)
    auto_migrate: bool = True
    executor: bool = Field(default=True, description="run pending operations (deploys) in this process")
    lease_seconds: float = Field(
        default=15.0,
        ge=1,
        le=3600,
        description="how long this server's hold on an operation or a build lasts unless renewed: after it "
        "dies, another server resumes its operations (and ends its builds) this much later",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="the first admin's API token (dy_...); generated into admin_token_file if unset"
    )
    admin_token_file: Path = Field(default_factory=lambda: _state_dir() / "admin-token")
    secret_key: SecretStr | None = Field(
        default=None,
        description="the master key sealing secrets at rest (32 random bytes, URL-safe base64); "
        "generated into secret_key_file if unset",
    )
    secret_key_file: Path = Field(default_factory=lambda: _state_dir() / "secret-key")
    secret_key_old: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="earlier master keys, comma-separated: what they sealed can still be opened",
    )
    admin_password: SecretStr | None = Field(
        default=None, description="the first admin's password; generated into admin_password_file if unset"
    )
    console_dir: Path | None = Field(
        default=None, description="the built web console (default: web/dist of the source tree)"
    )
    admin_password_file: Path = Field(default_factory=lambda: _state_dir() / "admin-password")
    build_dir: Path = Field(
        default_factory=lambda: _state_dir() / "builds",
        description="buildah's storage and the builds' private work directories",
    )
    build_concurrency: int = Field(default=2, ge=1, le=64, description="builds this process runs at once")
    build_timeout: int = Field(default=1800, ge=10, le=86400, description="a build's default and longest time (s)")
    build_source_roots: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="directories file:// sources may come from, comma-separated (none: no file://)",
    )
    build_blocked_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["10.96.0.0/12"],
        description="networks sources may not resolve to (besides loopback and link-local): service networks",
    )
    git_username: str = ""
    git_password: SecretStr | None = Field(default=None, description="git credentials for https sources (a token)")
    registry_username: str = ""
    registry_password: SecretStr | None = Field(default=None, description="credentials for pushing to the registry")
    registry_plain_http: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="registry hosts spoken to over plain HTTP (loopback ones always are)"
    )
    image_keep: int = Field(default=5, ge=1, le=1000, description="registry gc's default: versions kept per group")
    edge_runtime: str | None = Field(
        default=None,
        description="the edge load balancer's runtime API (HAProxy's stats socket at level admin): a unix "
        "socket path, e.g. .sandbox/haproxy.sock, or host:port; unset: no edge",
    )
    dns_records_dir: Path | None = Field(
        default=None,
        description="where the global names' records files go (the DNS server's hosts files); unset: no "
        "global names are published",
    )
    alertmanager_url: str = Field(
        default="", description="Alertmanager's base URL, for silences (e.g. http://127.0.0.1:9093); empty: none"
    )
    alertmanager_webhook_token: SecretStr | None = Field(
        default=None,
        description="the credential Alertmanager presents to /api/v1/alerts/webhook (Bearer); unset: the "
        "webhook refuses every call",
    )
    silence_max_hours: float = Field(default=168.0, gt=0, le=8760, description="the longest a silence may last")
    channel_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="internal networks webhook channels may still reach, comma-separated (loopback, link-local "
        "and private addresses are refused otherwise: SSRF)",
    )
    smtp_host: str = Field(default="", description="SMTP server for e-mail channels; empty: e-mail is off")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "dockyard@localhost"
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    prometheus_url: str = Field(
        default="http://127.0.0.1:9090",
        description="the Prometheus whose HTTP API the metrics charts read (the sandbox's by default)",
    )
    prometheus_timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per Prometheus request")
    logstore_url: str = Field(
        default="",
        description="the log store (VictoriaLogs) the shipper writes and the log search reads, e.g. "
        "http://127.0.0.1:9428 (the sandbox's); empty: no log history (docs/logs.md)",
    )
    logstore_timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per log store request")
    logs_ship: bool = Field(default=True, description="run the log shipper in this process (under a lease)")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="the read-only bearer token Prometheus scrapes /metrics with; generated into "
        "metrics_token_file if unset",
    )
    metrics_token_file: Path = Field(default_factory=lambda: _state_dir() / "metrics-token")
    remediation_every: float = Field(
        default=10.0, ge=0.2, le=3600, description="seconds between remediation rounds (docs/inspection.md)"
    )
    autoscale: bool = Field(default=True, description="run the autoscaler in this process (docs/autoscaling.md)")
    autoscale_every: float = Field(default=15.0, ge=1, le=3600, description="seconds between autoscale decisions")
    autoscale_step: float = Field(default=15.0, ge=1, le=600, description="seconds between the points it reads")
    autoscale_stale_seconds: float = Field(
        default=60.0, ge=5, le=3600, description="a signal whose newest point is older freezes the count"
    )
    statistics: bool = Field(
        default=True, description="run the resource statistics sampler in this process (docs/statistics.md)"
    )
    statistics_step: int = Field(
        default=60, ge=1, le=3600, description="seconds between statistics samples; must divide a day (86400)"
    )
    autoscale_requests_series: str = Field(
        default="dockyard_requests_total",
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        description="the per-instance request counter the requests signal reads",
    )

    @field_validator("statistics_step")
    @classmethod
    def _step_divides_a_day(cls, step: int) -> int:
        if 86400 % step:
            raise ValueError(f"statistics_step must divide 86400 (got {step})")
        return step

    oidc_issuer: str = Field(
        default="",
        description="single sign-on: the OpenID Connect provider's issuer URL (its discovery document is "
        "<issuer>/.well-known/openid-configuration); empty: SSO is off",
    )
    oidc_client_id: str = Field(default="", description="the client id Dockyard is registered with at the provider")
    oidc_client_secret: SecretStr | None = Field(default=None, description="that client's secret")
    oidc_redirect_url: str = Field(
        default="",
        description="where the provider sends the browser back: this server's /auth/callback as users reach it "
        "(e.g. https://dockyard.example.com/auth/callback)",
    )
    oidc_cli_client_id: str = Field(
        default="",
        description="the public client (no secret; PKCE, loopback redirect) `dockyard login --sso` signs in with; "
        "its ID tokens are taken as bearer tokens too; empty: the CLI signs in through the provider only with "
        "`dockyard login --token`",
    )
    oidc_scopes: str = Field(default="openid profile email", description="scopes asked for at login")
    oidc_audience: str = Field(
        default="", description="the audience bearer tokens from the provider must hold (default: the client id)"
    )
    oidc_groups_claim: str = Field(
        default="groups", description="the claim holding the groups (a dotted path reaches nested claims)"
    )
    oidc_username_claim: str = Field(default="preferred_username", description="the claim naming the person")
    oidc_admin_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="provider groups whose members are platform admins, comma-separated"
    )
    oidc_role_map: str = Field(
        default="",
        description="provider groups to roles: GROUP=SYSTEM:ROLE or GROUP=SYSTEM/APP:ROLE, comma-separated",
    )
    oidc_session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="how long a console session lasts")
    oidc_secure_cookies: bool = Field(
        default=True, description="mark the session cookie Secure (turn off only for plain-HTTP development)"
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url

    @field_validator("oidc_issuer", "oidc_redirect_url")
    @classmethod
    def _optional_http_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/") if url else url

    @field_validator("prometheus_url", "logstore_url")
    @classmethod
    def _http_url(cls, url: str, info: ValidationInfo) -> str:
        if info.field_name == "logstore_url" and url == "":
            return url
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")

    @field_validator(
        "secret_key_old",
        "build_source_roots",
        "build_blocked_networks",
        "registry_plain_http",
        "channel_allowed_networks",
        "oidc_admin_groups",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("channel_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for raw in value:
            ipaddress.ip_network(raw, strict=False)  # ValueError: pydantic names the field
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = config_file()
        if config.exists():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config))
        return tuple(sources)

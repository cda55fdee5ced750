"""``target:`` — which Funkwhale the virtual users talk to, and how they log in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from fwload.funkwhale.paths import path_in_base_url
from fwload.scenario.section import Section
from fwload.units import Duration

AuthMode = Literal["token", "session", "basic"]


class Target(Section):
    """The server under test. ``host: null`` means the local stand-in that fwload starts."""

    host: str | None = Field(
        None,
        description="Base URL of the Funkwhale instance (http:// or https://); --host overrides it; "
        "null = the local stand-in (fwload run/demo start it).",
    )
    auth: AuthMode = Field(
        "token",
        description="How each virtual user authenticates: token (one app token per account, "
        "Authorization: Bearer), session (cookie + CSRF; login is throttled 30/h per IP by default) "
        "or basic (HTTP Basic on every request).",
    )
    users_file: Path | None = Field(
        None,
        description="Accounts file (relative to the scenario file); null = register accounts, "
        "which needs open registration on the target.",
    )
    password: SecretStr | None = Field(
        None,
        description="Password given to the accounts fwload registers itself (users_file: null); "
        "null = a random password per run. Never written to the run directory.",
    )
    request_timeout: Duration = Field(
        30.0,
        gt=0,
        description="Client timeout of one HTTP request, in seconds; beyond it the "
        "request counts as a timeout error.",
    )
    ready_timeout: Duration = Field(
        60.0,
        gt=0,
        description="Readiness gate deadline, in seconds: the target (and each component "
        "the collector sees) must be ready within it or the run stops before any load.",
    )

    @field_validator("host")
    @classmethod
    def _host_is_base_url(cls, host: str | None) -> str | None:
        if host is None:
            return None
        parts = urlsplit(host.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{host!r} is not a base URL: write it like 'https://funkwhale.example.org'")
        if parts.username or parts.password:
            raise ValueError("the URL holds credentials: remove them and use users_file (or password)")
        if parts.query or parts.fragment:
            raise ValueError(f"{host!r} has a query or fragment: give the bare base URL")
        base = path_in_base_url(host)
        if base:
            raise ValueError(f"{host!r} has a path ({parts.path}): Funkwhale is served from its base URL; "
                             f"use {base!r}")
        return host.strip().rstrip("/")

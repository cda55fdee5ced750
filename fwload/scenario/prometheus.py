"""``collector.prometheus:`` — where a Prometheus server is and how to ask it (``backend: prometheus``).

The bearer token is never part of a scenario: only the file holding it or the name of the
environment variable that does, so the resolved ``scenario.yaml`` in a run directory, run.json
and the reports can name where the token comes from without ever holding it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from fwload.scenario.section import Section
from fwload.units import Duration

TOKEN_KEYS = ("bearer_token", "token", "password", "authorization")


class PrometheusSettings(Section):
    """A Prometheus (or compatible: Thanos, Mimir, VictoriaMetrics) holding cAdvisor and kube-state-metrics series."""

    url: str = Field(
        description="Base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090 "
        "(the part before /api/v1); --prometheus-url overrides it.",
    )
    bearer_token_file: Path | None = Field(
        None, description="File holding the bearer token sent as Authorization: Bearer (read at start, never copied)."
    )
    bearer_token_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the bearer token (e.g. PROMETHEUS_TOKEN).",
    )
    step: Duration | None = Field(
        None, gt=0, description="Range-query step; null = the collector interval (one point per sample)."
    )
    scrape_interval: Duration | None = Field(
        None, gt=0, description="Scrape interval of cAdvisor and kube-state-metrics; null = measured from "
        "the stored samples (Prometheus' default, 1m, when it cannot be)."
    )
    rate_window: Duration | None = Field(
        None, gt=0, description="Range of rate() over the CPU counter; null = max(step + scrape interval, "
        "4 x scrape interval), so every window holds enough samples even after a failed scrape."
    )
    timeout: Duration = Field(30.0, gt=0, description="HTTP timeout of one query, in seconds.")

    @model_validator(mode="before")
    @classmethod
    def _no_token_inline(cls, data: Any) -> Any:
        if isinstance(data, dict):
            inline = [key for key in TOKEN_KEYS if key in data]
            if inline:
                raise ValueError(
                    f"{inline[0]}: a token never goes in the scenario (it would be copied to the run directory); "
                    "use bearer_token_file: <path> or bearer_token_env: <VARIABLE>"
                )
        return data

    @field_validator("url")
    @classmethod
    def _url_is_base_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        if parts.username or parts.password:
            raise ValueError("the URL holds credentials: remove them and use bearer_token_file or bearer_token_env")
        return url.strip().rstrip("/")

    @model_validator(mode="after")
    def _one_token_source(self) -> PrometheusSettings:
        if self.bearer_token_file is not None and self.bearer_token_env is not None:
            raise ValueError("set bearer_token_file or bearer_token_env, not both")
        return self

"""``collector.components:`` — where each component runs on a host (``collector.backend: host``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, model_serializer, model_validator

from fwload.scenario.section import Section

COMPONENT_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_CONTAINER = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class HostComponent(Section):
    """One component, named by exactly one of these keys (``api: {systemd: funkwhale-server.service}``)."""

    systemd: str | None = Field(
        None, pattern=r"^[^\s/]+$",
        description="systemd unit, e.g. funkwhale-server.service: its cgroup, MainPID and NRestarts from "
        "`systemctl show`.",
    )
    docker: str | None = Field(
        None, pattern=_CONTAINER,
        description="Docker container name or id, e.g. funkwhale-api-1: its main process and RestartCount "
        "from `docker inspect`, its cgroup from /proc/<pid>/cgroup.",
    )
    podman: str | None = Field(None, pattern=_CONTAINER, description="Podman container name or id (as docker).")
    cgroup: str | None = Field(
        None, min_length=1,
        description="cgroup directory, e.g. /sys/fs/cgroup/system.slice/redis-server.service "
        "(cgroup v1: /sys/fs/cgroup/memory/...); its main process is the oldest one in it.",
    )
    pid: int | None = Field(None, gt=0, description="Main process id; its cgroup from /proc/<pid>/cgroup.")
    pidfile: Path | None = Field(
        None, description="File holding the main process id, read at every sample, e.g. /run/nginx.pid."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> HostComponent:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(type(self).model_fields)} "
                             f"(got {', '.join(given) or 'none'})")
        return self

    @model_serializer(mode="wrap")
    def _only_the_given_key(self, handler: Any) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}

    def spec(self) -> dict[str, Any]:
        """``{kind: value}`` as the host collector takes it."""
        return {key: str(value) if isinstance(value, Path) else value
                for key, value in self.model_dump().items()}


def check_component_names(components: dict[str, HostComponent] | None) -> dict[str, HostComponent] | None:
    for name in components or {}:
        if not COMPONENT_NAME.match(name):
            raise ValueError(f"component name {name!r}: use letters, digits, '-', '_' and '.' "
                             "(e.g. api, celery-worker)")
    if components is not None and not components:
        raise ValueError("name at least one component, e.g. api: {systemd: funkwhale-server.service}")
    return components

"""What Docker or Podman says about containers, through their CLI (the only module that reads it).

``docker inspect --type container A B`` prints a JSON array with one object per container
found, in the order asked; what it cannot find is left out of the array and named on stderr
(``Error: No such container: B``, Podman: ``Error: no such container B``) with exit code 1
(Podman: 125). When the engine cannot be reached it still prints ``[]`` and says so on
stderr ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker
daemon running?"), so stderr, not the array, tells a missing container from a missing engine.
The fields read: ``Id``, ``Name`` (Docker: ``/name``), ``RestartCount`` (restarts by the
restart policy), ``State.Status``/``Running``/``Pid``/``OOMKilled``/``ExitCode``,
``State.Health.Status`` when the image has a health check, ``Config.Labels``.

Compose labels every container with ``com.docker.compose.project`` and
``com.docker.compose.service`` (podman-compose sets the same ones).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fwload.collectors.host.tools import HostToolError, run_tool

ENGINES = ("docker", "podman")
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerState:
    ref: str
    """The name or id as asked."""
    id: str
    name: str
    status: str = ""
    running: bool = False
    pid: int = 0
    restarts: int | None = None
    oom_killed: bool = False
    exit_code: int | None = None
    health: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        text = self.status or "?"
        if not self.running:
            text += f", exit code {self.exit_code}" if self.exit_code is not None else ""
            text += ", OOMKilled: the kernel OOM-killed it" if self.oom_killed else ""
        elif self.health:
            text += f", health {self.health}"
        return text


def parse_inspect(text: str, refs: Sequence[str]) -> dict[str, ContainerState]:
    try:
        found = json.loads(text or "[]")
    except ValueError as error:
        raise HostToolError(f"inspect did not print JSON: {error}") from None
    if not isinstance(found, list):
        raise HostToolError("inspect did not print a JSON array")
    states = {}
    for ref in refs:
        entry = next((e for e in found if isinstance(e, dict) and _matches(e, ref)), None)
        if entry is not None:
            states[ref] = _state(ref, entry)
    return states


def inspect(engine: str, refs: Sequence[str]) -> dict[str, ContainerState]:
    """The containers found (one inspect for all); missing ones are absent. HostToolError when the
    engine cannot be asked."""
    if not refs:
        return {}
    answer = run_tool([engine, "inspect", "--type", "container", *refs])
    if answer.code != 0:
        problems = [line for line in answer.stderr.splitlines() if line.strip()]
        if not problems or not all("no such" in line.lower() for line in problems):
            raise HostToolError(f"{engine} inspect failed: {answer.first_error_line()}")
    return parse_inspect(answer.stdout, refs)


def compose_containers(engine: str) -> list[ContainerState]:
    """Running containers that belong to a compose project (labels included)."""
    answer = run_tool([engine, "ps", "-q", "--no-trunc", "--filter", f"label={PROJECT_LABEL}"])
    if answer.code != 0:
        raise HostToolError(f"{engine} ps failed: {answer.first_error_line()}")
    ids = answer.stdout.split()
    return list(inspect(engine, ids).values())


def _matches(entry: dict[str, Any], ref: str) -> bool:
    identifier = str(entry.get("Id", ""))
    return ref in (identifier, str(entry.get("Name", "")).lstrip("/")) or (len(ref) >= 4 and identifier.startswith(ref))


def _state(ref: str, entry: dict[str, Any]) -> ContainerState:
    state = entry.get("State") or {}
    health = state.get("Health") or state.get("Healthcheck") or {}
    config = entry.get("Config") or {}
    restarts = entry.get("RestartCount")
    exit_code = state.get("ExitCode")
    return ContainerState(
        ref=ref, id=str(entry.get("Id", "")), name=str(entry.get("Name", "")).lstrip("/"),
        status=str(state.get("Status", "")), running=bool(state.get("Running")), pid=int(state.get("Pid") or 0),
        restarts=int(restarts) if isinstance(restarts, int) else None, oom_killed=bool(state.get("OOMKilled")),
        exit_code=int(exit_code) if isinstance(exit_code, int) else None,
        health=str(health["Status"]) if isinstance(health, dict) and health.get("Status") else None,
        labels={str(k): str(v) for k, v in (config.get("Labels") or {}).items()},
    )

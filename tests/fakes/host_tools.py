"""Fake ``systemctl``, ``docker`` and ``podman`` executables on PATH, printing what the real ones print.

Neither systemd (as PID 1) nor a Docker engine can run here, so tests of the host backend
and of ``fwload host detect`` put these scripts first on PATH. They read a `FakeHost` (a
JSON file the test rewrites between calls) whose units and containers point at real
processes in real cgroups the test made. The shapes copied from the real tools:

- ``systemctl show -p P1,P2 -- u1 u2``: a block of ``Key=Value`` lines per unit (the
  properties asked), blocks separated by an empty line, in the order asked; exit 0 even
  for a unit that does not exist (``LoadState=not-found``, ``ActiveState=inactive``,
  ``SubState=dead``, ``MainPID=0``, ``NRestarts=0``, empty ``ControlGroup=``).
- ``systemctl list-units --type=service --all --plain --no-legend --no-pager -- PATTERN...``:
  ``UNIT LOAD ACTIVE SUB DESCRIPTION`` per line.
- Without systemd as PID 1 (``systemd_running: false``): stderr "System has not been booted
  with systemd as init system (PID 1). Can't operate." and "Failed to connect to bus: Host
  is down", exit 1 (what this machine's real systemctl prints).
- ``docker inspect --type container A B``: a JSON array (4-space indented) of the containers
  found; each one missing is named on stderr ``Error: No such container: B`` (Podman:
  ``Error: no such container B``), exit 1 (Podman 125). Engine down (``engine_running:
  false``): ``[]`` on stdout, "Cannot connect to the Docker daemon at
  unix:///var/run/docker.sock. Is the docker daemon running?" on stderr, exit 1 (what this
  machine's real docker 28 client prints).
- ``docker ps -q --no-trunc --filter label=K``: the full ids of running containers with label K.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_ENV = "FWLOAD_FAKE_HOST_STATE"


@dataclass
class Unit:
    main_pid: int = 0
    control_group: str = ""
    active_state: str = "active"
    sub_state: str = "running"
    result: str = "success"
    restarts: int = 0
    description: str = "A service"


@dataclass
class Container:
    id: str
    name: str
    pid: int = 0
    status: str = "running"
    restarts: int = 0
    oom_killed: bool = False
    exit_code: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    engine: str = "docker"


@dataclass
class FakeHost:
    """What the fake tools report; `write` after every change."""

    path: Path
    systemd_running: bool = True
    engine_running: bool = True
    units: dict[str, Unit] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def write(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k not in ("path", "calls")}
        self.path.write_text(json.dumps(data))

    def read_calls(self) -> list[list[str]]:
        log = self.path.with_suffix(".calls")
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def install(bin_dir: Path, state: Path, monkeypatch: Any) -> FakeHost:
    """Write the three fakes into ``bin_dir``, put it first on PATH (and the state file in the env)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("systemctl", "docker", "podman"):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(_SCRIPT).replace("TOOL_NAME", name))
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv(STATE_ENV, str(state))
    host = FakeHost(state)
    host.write()
    return host


_SCRIPT = '''
import fnmatch, json, os, sys

TOOL = "TOOL_NAME"
state_path = os.environ["FWLOAD_FAKE_HOST_STATE"]
state = json.load(open(state_path))
args = sys.argv[1:]
with open(state_path.rsplit(".", 1)[0] + ".calls", "a") as log:
    log.write(json.dumps([TOOL, *args]) + "\\n")


def systemctl():
    if not state["systemd_running"]:
        sys.stderr.write("System has not been booted with systemd as init system (PID 1). Can't operate.\\n"
                         "Failed to connect to bus: Host is down\\n")
        sys.exit(1)
    verb = args[0]
    rest = [a for a in args[1:] if not a.startswith("--") or a == "--"]
    if verb == "show":
        props = rest[rest.index("-p") + 1].split(",")
        units = rest[rest.index("--") + 1:]
        blocks = []
        for name in units:
            full = name if "." in name else name + ".service"
            unit = state["units"].get(full)
            values = {"Id": full, "LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead",
                      "Result": "success", "MainPID": "0", "NRestarts": "0", "ControlGroup": ""}
            if unit is not None:
                values.update({"LoadState": "loaded", "ActiveState": unit["active_state"],
                               "SubState": unit["sub_state"], "Result": unit["result"],
                               "MainPID": str(unit["main_pid"]), "NRestarts": str(unit["restarts"]),
                               "ControlGroup": unit["control_group"]})
            blocks.append("\\n".join(f"{p}={values.get(p, '')}" for p in props))
        print("\\n\\n".join(blocks))
    elif verb == "list-units":
        patterns = rest[rest.index("--") + 1:] if "--" in rest else ["*"]
        for name, unit in sorted(state["units"].items()):
            if any(fnmatch.fnmatch(name, p) for p in patterns):
                print(f"{name} loaded {unit['active_state']} {unit['sub_state']} {unit['description']}")
    else:
        sys.exit(f"fake systemctl: {verb} is not faked")


def engine():
    if not state["engine_running"]:
        if args[0] == "inspect":
            print("[]")
        sys.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                         "Is the docker daemon running?\\n")
        sys.exit(1)
    containers = {k: c for k, c in state["containers"].items() if c["engine"] == TOOL}
    if args[0] == "inspect":
        refs = [a for a in args[1:] if a not in ("--type", "container")]
        found, missing = [], []
        for ref in refs:
            match = next((c for c in containers.values()
                          if ref in (c["id"], c["name"]) or (len(ref) >= 4 and c["id"].startswith(ref))), None)
            if match is None:
                missing.append(ref)
                continue
            running = match["status"] == "running"
            found.append({
                "Id": match["id"], "Created": "2026-11-27T10:00:00.000000000Z", "Path": "/entrypoint.sh",
                "Args": [], "State": {
                    "Status": match["status"], "Running": running, "Paused": False,
                    "Restarting": match["status"] == "restarting", "OOMKilled": match["oom_killed"],
                    "Dead": False, "Pid": match["pid"] if running else 0,
                    "ExitCode": 0 if running else match["exit_code"], "Error": "",
                    "StartedAt": "2026-11-27T10:00:01.000000000Z", "FinishedAt": "0001-01-01T00:00:00Z"},
                "Image": "sha256:" + "0" * 64,
                "Name": ("/" if TOOL == "docker" else "") + match["name"],
                "RestartCount": match["restarts"],
                "HostConfig": {"Memory": 0, "NanoCpus": 0, "RestartPolicy": {"Name": "unless-stopped",
                                                                             "MaximumRetryCount": 0}},
                "Config": {"Labels": match["labels"]},
            })
        print(json.dumps(found, indent=4))
        for ref in missing:
            sys.stderr.write(f"Error: No such container: {ref}\\n" if TOOL == "docker"
                             else f"Error: no such container {ref}\\n")
        sys.exit((1 if TOOL == "docker" else 125) if missing else 0)
    if args[0] == "ps":
        label = args[args.index("--filter") + 1].removeprefix("label=")
        for c in containers.values():
            if c["status"] == "running" and label.split("=")[0] in c["labels"]:
                print(c["id"])
        return
    sys.exit(f"fake {TOOL}: {args[0]} is not faked")


systemctl() if TOOL == "systemctl" else engine()
'''

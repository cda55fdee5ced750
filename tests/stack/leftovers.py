"""What a stack leaves on the machine, found by its id: processes, cgroups, files, a database."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from fwload.common.cgroups import ROOT

SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


def labelled_processes(stack_id: str) -> dict[int, str]:
    """PID -> component of every live process whose environment says FWLOAD_STACK=<stack_id>."""
    label = f"FWLOAD_STACK={stack_id}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if label in variables:
            component = next(
                (v.split(b"=", 1)[1].decode() for v in variables if v.startswith(b"FWLOAD_COMPONENT=")), "?"
            )
            found[int(entry.name)] = component
    return found


def component_sessions(manager_pid: int) -> set[int]:
    """Each component runs in its own session (its root PID); the stand-in started them all.

    nginx, Redis and PostgreSQL's backends overwrite their environment with their process
    titles, so the label alone cannot find them: their session can.
    """
    sessions = set()
    for child in psutil.Process(manager_pid).children():
        try:
            sessions.add(os.getsid(child.pid))
        except ProcessLookupError:
            continue
    return sessions


def processes_in_sessions(sessions: set[int]) -> list[int]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) in sessions and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def stack_cgroups(stack_id: str) -> list[Path]:
    name = f"fwload-stack-{stack_id}"
    places = [ROOT / name] + [ROOT / controller / name for controller in ("memory", "cpu", "cpuacct")]
    return [place for place in places if place.exists()]


def stack_temp_dirs(stack_id: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"fwload-stack-{stack_id}-*"))


def database_exists(name: str) -> bool:
    with psycopg.connect(SERVER) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def leftovers(stack_id: str, sessions: set[int]) -> dict[str, object]:
    found: dict[str, object] = {
        "processes": labelled_processes(stack_id),
        "processes in component sessions": processes_in_sessions(sessions),
        "cgroups": stack_cgroups(stack_id),
        "temp dirs": stack_temp_dirs(stack_id),
    }
    if database_exists(f"fwload_stack_{stack_id}"):
        found["database"] = f"fwload_stack_{stack_id}"
    return {kind: what for kind, what in found.items() if what}


def assert_nothing_left(stack_id: str, sessions: set[int], timeout_s: float = 10.0) -> None:
    """Processes reparented to init need a moment to be reaped; anything else must be gone at once."""
    deadline = time.monotonic() + timeout_s
    while (left := leftovers(stack_id, sessions)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"stack {stack_id} left {left}"

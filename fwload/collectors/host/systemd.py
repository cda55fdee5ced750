"""What systemd says about units, through ``systemctl`` (the only module that spells its output).

``systemctl show -p Id,LoadState,... a.service b.service`` prints one block of ``Key=Value``
lines per unit, blocks separated by an empty line, in the order the units were asked for.
It exits 0 even for a unit that does not exist: that one reads ``LoadState=not-found``,
``MainPID=0`` and an empty ``ControlGroup=``. ``NRestarts`` (systemd >= 235) counts the
automatic restarts (``Restart=``), not the ones an admin asks for; ``Result=oom-kill`` says
the kernel's OOM killer ended the unit's last run. Without systemd as PID 1, systemctl
prints "System has not been booted with systemd as init system (PID 1). Can't operate." and
exits 1.

``systemctl list-units --type=service --all --plain --no-legend --no-pager PATTERN...``
prints one unit per line: ``UNIT LOAD ACTIVE SUB DESCRIPTION``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fwload.collectors.host.tools import HostToolError, run_tool

PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "Result", "MainPID", "NRestarts", "ControlGroup")
UNKNOWN_LOAD_STATES = frozenset({"not-found", "bad-setting", "error", "masked"})


@dataclass(frozen=True)
class UnitState:
    unit: str
    """The name as asked (``Id`` may differ for an alias: redis.service -> redis-server.service)."""
    load_state: str = ""
    active_state: str = ""
    sub_state: str = ""
    result: str = ""
    main_pid: int = 0
    restarts: int | None = None
    control_group: str = ""

    @property
    def loaded(self) -> bool:
        return self.load_state not in UNKNOWN_LOAD_STATES and self.load_state != ""

    @property
    def running(self) -> bool:
        return self.active_state in ("active", "reloading", "deactivating")

    def describe(self) -> str:
        text = f"{self.active_state or '?'} ({self.sub_state or '?'})"
        if self.result and self.result != "success":
            text += f", Result={self.result}" + (": the kernel OOM-killed it" if self.result == "oom-kill" else "")
        return text


def parse_show(text: str, units: Sequence[str]) -> dict[str, UnitState]:
    blocks: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        key, _, value = line.partition("=")
        blocks[-1][key] = value
    blocks = [block for block in blocks if block]
    if len(blocks) != len(units):
        raise HostToolError(f"systemctl show answered {len(blocks)} unit(s) for {len(units)} asked")
    return {unit: UnitState(
        unit=unit,
        load_state=block.get("LoadState", ""),
        active_state=block.get("ActiveState", ""),
        sub_state=block.get("SubState", ""),
        result=block.get("Result", ""),
        main_pid=_int(block.get("MainPID")) or 0,
        restarts=_int(block.get("NRestarts")),
        control_group=block.get("ControlGroup", ""),
    ) for unit, block in zip(units, blocks, strict=True)}


def show(units: Sequence[str]) -> dict[str, UnitState]:
    """Each unit's state (one ``systemctl show`` for all); HostToolError when systemd cannot be asked."""
    if not units:
        return {}
    answer = run_tool(["systemctl", "show", "--no-pager", "-p", ",".join(PROPERTIES), "--", *units])
    if answer.code != 0:
        raise HostToolError(f"systemctl show failed: {answer.first_error_line()}")
    return parse_show(answer.stdout, units)


def service_units(patterns: Sequence[str]) -> list[tuple[str, str]]:
    """(unit, active state) of the loaded service units matching the patterns; HostToolError without systemd."""
    answer = run_tool(["systemctl", "list-units", "--type=service", "--all", "--plain", "--no-legend",
                       "--no-pager", "--", *patterns])
    if answer.code != 0:
        raise HostToolError(f"systemctl list-units failed: {answer.first_error_line()}")
    units = []
    for line in answer.stdout.splitlines():
        fields = line.replace("●", " ").split()
        if len(fields) >= 4 and fields[0].endswith(".service") and fields[1] == "loaded":
            units.append((fields[0], fields[2]))
    return units


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "", "[not set]") else None
    except ValueError:
        return None

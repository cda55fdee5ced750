"""Read a scenario file, or fail with one message naming the file, each bad field and the fix.

`load_scenario` is what the CLI and the Locust plugin call; `with_overrides` applies
command-line values (``--host``, ``--users`` ...) and `with_changes` nested ones (the demo),
validating the result the same way.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fwload.errors import UsageError
from fwload.scenario.messages import describe
from fwload.scenario.model import Scenario
from fwload.units import parse_duration

SHIPPED_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

OVERRIDES: dict[str, tuple[str, str]] = {
    "host": ("target", "host"),
    "auth": ("target", "auth"),
    "users_file": ("target", "users_file"),
    "request_timeout": ("target", "request_timeout"),
    "ready_timeout": ("target", "ready_timeout"),
    "users": ("load", "users"),
    "spawn_rate": ("load", "spawn_rate"),
    "duration": ("load", "duration"),
    "collector": ("collector", "backend"),
    "namespace": ("collector", "namespace"),
    "context": ("collector", "context"),
}
"""Command-line override name → (section, field) it replaces; see `override_help`."""

_FIX = "correct the field(s) above; every field is described in docs/architecture.md and scenarios/*.yaml"


def load_scenario(path: str | Path, *, check_files: bool = True) -> Scenario:
    """Read and validate a scenario file; ``target.users_file`` is resolved next to it.

    ``check_files=False`` skips the check that ``users_file`` exists (for re-reading a run
    directory's ``scenario.yaml`` on another machine).
    """
    source = str(path)
    raw = _read_yaml(Path(path), source)
    return scenario_from_data(raw, source=source, base_dir=Path(path).parent, check_files=check_files)


def scenario_from_text(
    text: str, *, source: str = "<scenario>", base_dir: Path | None = None, check_files: bool = True
) -> Scenario:
    """Validate scenario YAML held in memory (e.g. pasted in the web UI)."""
    return scenario_from_data(
        _parse_yaml(text, source), source=source, base_dir=base_dir or Path.cwd(), check_files=check_files
    )


def scenario_from_data(raw: Any, *, source: str, base_dir: Path, check_files: bool = True) -> Scenario:
    """Validate already-parsed data; ``source`` names it in error messages."""
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else f"a single value ({raw!r})"
        raise UsageError(
            f"{source}: the file holds {kind}, not a mapping of fields",
            "start from a shipped scenario, e.g. scenarios/smoke.yaml (name:, users:, load:)",
        )
    raw = _resolve_users_file(raw, base_dir)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise _usage_error(source, describe(error, Scenario, raw)) from None
    if check_files:
        _check_users_file(scenario, source)
    return scenario


def with_overrides(scenario: Scenario, *, source: str | None = None, fix: str = _FIX, **overrides: Any) -> Scenario:
    """A copy of ``scenario`` with command-line values applied (``None`` = not given), re-validated.

    Names are the keys of `OVERRIDES`; a relative ``users_file`` is taken from the current
    directory. Overriding ``duration`` of a steps profile re-divides it into equal steps, and
    stretches an arrivals profile's stages in proportion.
    ``source`` and ``fix`` word an error (default: the overrides by name, and the file fix).
    """
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise TypeError(f"unknown override(s) {', '.join(unknown)}; known: {', '.join(OVERRIDES)}")
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return scenario
    changes: dict[str, dict[str, Any]] = {}
    for name, value in given.items():
        section, field = OVERRIDES[name]
        if name == "users_file":
            value = Path(value).expanduser().resolve()
        changes.setdefault(section, {})[field] = value
    source = source or "overrides (" + ", ".join(f"{name}={value!r}" for name, value in given.items()) + ")"
    return with_changes(scenario, changes, source=source, fix=fix)


def as_options(overrides: dict[str, Any]) -> str:
    """``--users 500 --duration 1h``: the command-line options `OVERRIDES` names stand for."""
    return " ".join(f"--{name.replace('_', '-')} {value}" for name, value in overrides.items() if value is not None)


def with_changes(scenario: Scenario, changes: dict[str, Any], *, source: str = "overrides", fix: str = _FIX) -> Scenario:
    """A copy of ``scenario`` with nested ``changes`` merged in (e.g. ``{"load": {"duration": 60}}``).

    Mappings merge key by key, anything else (lists included) replaces; secrets are kept.
    Problems are reported like a file's, with ``source`` in place of the file name.
    """
    data = _merge(scenario.model_dump(by_alias=True), changes)
    load_changes = changes.get("load") if isinstance(changes.get("load"), dict) else {}
    if (
        "duration" in load_changes
        and "duration" not in (load_changes.get("steps") or {})
        and data["load"]["steps"]
    ):
        data["load"]["steps"]["duration"] = None  # re-divide the new duration into equal steps
    arrivals = data["load"].get("arrivals") or {}
    if "duration" in load_changes and arrivals.get("stages") and "arrivals" not in load_changes:
        scale = float(parse_duration(load_changes["duration"])) / scenario.load.duration
        for stage in arrivals["stages"]:
            stage["duration"] = stage["duration"] * scale  # the same shape of rates over the new duration
    try:
        result = Scenario.model_validate(data)
    except ValidationError as error:
        raise _usage_error(source, describe(error, Scenario, data), fix) from None
    if result.target.users_file != scenario.target.users_file:
        _check_users_file(result, source)
    return result


def override_help(name: str) -> str:
    """The description of the field an override replaces, for CLI and web UI help."""
    section, field = OVERRIDES[name]
    section_model = Scenario.model_fields[section].annotation
    return section_model.model_fields[field].description or ""  # type: ignore[union-attr]


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        current = merged.get(key)
        both = isinstance(current, dict) and isinstance(value, dict)
        merged[key] = _merge(current, value) if both else copy.deepcopy(value)
    return merged


def _read_yaml(path: Path, source: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{source}: no such scenario file", _shipped_hint()) from None
    except IsADirectoryError:
        raise UsageError(f"{source}: is a directory, not a scenario file", _shipped_hint()) from None
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not a UTF-8 text file", "save the scenario as UTF-8 YAML") from None
    except OSError as error:
        raise UsageError(
            f"{source}: cannot read the file ({error.strerror})", "check the path and its permissions"
        ) from None
    return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> Any:
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (error.context, error.problem) if part)
        raise UsageError(
            f"{source}: {where}YAML syntax error: {what}",
            "fix the YAML at that line (indentation, a missing ':' or an unclosed quote)",
        ) from None
    except yaml.YAMLError as error:
        raise UsageError(f"{source}: YAML syntax error: {error}", "fix the YAML syntax") from None
    if raw is None:
        raise UsageError(
            f"{source}: the file is empty",
            "a scenario needs at least name, users and load; copy scenarios/smoke.yaml",
        ) from None
    return raw


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a scenario must not lose a setting that way."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (the second one would silently win)",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _resolve_users_file(raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    target = raw.get("target")
    if not isinstance(target, dict) or not isinstance(target.get("users_file"), str):
        return raw
    users_file = Path(target["users_file"]).expanduser()
    if not users_file.is_absolute():
        users_file = (base_dir / users_file).resolve()
    return {**raw, "target": {**target, "users_file": users_file}}


def _check_users_file(scenario: Scenario, source: str) -> None:
    users_file = scenario.target.users_file
    if users_file is not None and not users_file.is_file():
        raise UsageError(
            f"{source}: target.users_file: no such file {str(users_file)!r}",
            "give the accounts file's path relative to the scenario file, or null to register accounts",
        )


def _usage_error(source: str, lines: list[str], fix: str = _FIX) -> UsageError:
    return UsageError("\n".join(f"{source}: {line}" for line in lines), fix)


def _shipped_hint() -> str:
    shipped = sorted(p.name for p in SHIPPED_SCENARIOS.glob("*.yaml")) if SHIPPED_SCENARIOS.is_dir() else []
    if shipped:
        return f"check the path; shipped scenarios are in {SHIPPED_SCENARIOS}: {', '.join(shipped)}"
    return "check the path to the scenario file"

"""Every hint names an option that exists, in the command the hint is about (issue 15).

Every user-facing string of the source (error problems and fixes, notices, help texts; not
docstrings) that names a ``--option`` is found by reading the code, and each option is looked
up in the command line of the command the message is about: the command the text itself names
(`` `fwload users tokens --users-file FILE` ``, ``locust``), else the commands that surface the
messages of its module (`MODULE_COMMANDS`), every one of them, so a hint shared by ``fwload
run`` and Locust must hold for both. The scenarios' comments and the README's command lines
are checked the same way. fwload's commands are read from the typer app; Locust's from its own
parser with the plugin's arguments, in a subprocess (importing locust here would patch the
network).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

REPO = Path(__file__).resolve().parents[1]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
MENTION = re.compile(r"(`?)\b(fwload(?: [a-z][a-z0-9-]*){1,2}|locust|kubectl|funkwhale-manage|useradd|apt-get|nginx|curl|kube-state-metrics)\b")
EXTERNAL = {"kubectl", "funkwhale-manage", "useradd", "apt-get", "nginx", "curl", "kube-state-metrics"}
CLAUSE_END = re.compile(r"[,;)]|\.\s")

ANYWHERE = ("fwload run", "fwload ui", "locust")
"""What a run of any kind can show: ``fwload ui`` is Locust's web UI started by fwload."""

MODULE_COMMANDS: dict[str, tuple[str, ...]] = {
    "analysis/compare.py": ("fwload compare",),
    "analysis/": ANYWHERE,
    "fwload/cli/demo.py": ("fwload demo",),
    "fwload/cli/standin.py": ("fwload standin",),
    "fwload/cli/users.py": ("fwload users provision",),
    "fwload/cli/run.py": ("fwload run",),
    "fwload/cli/ui.py": ("fwload ui",),
    "fwload/cli/report.py": ("fwload report",),
    "fwload/cli/export.py": ("fwload export",),
    "fwload/recording/export.py": ("fwload export",),
    "fwload/cli/host.py": ("fwload host detect",),
    "fwload/recording/backfill.py": ("fwload report",),
    "fwload/collectors/host/detect.py": ("fwload host detect",),
    "fwload/standin/": ("fwload standin",),
    "fwload/kube/accounts.py": ("fwload users provision",),
    "fwload/kube/exec.py": ("fwload users provision",),
    "fwload/kube/": ("fwload k8s check", "fwload users provision"),
    "fwload/collectors/selection.py::NO_PIDS_FIX": ("locust",),
    "fwload/collectors/selection.py::parse_local_pids": ("locust",),
    "fwload/collectors/": ANYWHERE,
    "fwload/fixtures/": ("fwload fixtures",),
    "fwload/funkwhale/": ANYWHERE,
    "fwload/launch/run.py": ("fwload run",),
    "fwload/preflight.py": ANYWHERE,
    "fwload/recording/": ANYWHERE,
    "fwload/scenario/": ANYWHERE,
    "fwload/users/": ANYWHERE,
    "fwload/plugin/": ("locust",),
    "fwload/webui/launcher.py": ("fwload ui",),
    "fwload/webui/": ("fwload ui", "locust"),
}
"""Module (or ``module::top-level name``) → the commands whose users read its messages; the
longest matching key wins."""


@dataclass(frozen=True)
class Hint:
    where: str
    scope: str
    """The module, or ``module::name`` of the top-level function or constant holding the text."""
    text: str


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        for before, after in zip(body, body[1:], strict=False):
            if isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr) \
                    and isinstance(after.value, ast.Constant):
                found.add(id(after.value))  # an attribute's docstring
    return found


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _top_level_name(statement: ast.stmt) -> str:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return statement.name
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def source_hints() -> list[Hint]:
    """Every non-docstring string of fwload/ and analysis/ that is a sentence naming an option."""
    hints = []
    for path in sorted([*REPO.glob("fwload/**/*.py"), *REPO.glob("analysis/**/*.py")]):
        module = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstring_nodes(tree)
        for statement in tree.body:
            name = _top_level_name(statement)
            parts = {id(part) for node in ast.walk(statement) if isinstance(node, ast.JoinedStr) for part in node.values}
            for node in ast.walk(statement):
                text = _text(node)
                if text is None or id(node) in docstrings or id(node) in parts:
                    continue
                if " " in text.strip() and OPTION.search(text):
                    hints.append(Hint(f"{module}:{node.lineno}", f"{module}::{name}", text))
    return hints


def document_hints() -> list[Hint]:
    """Command lines in the scenarios' comments and in the README's code blocks."""
    hints = []
    for path in sorted(REPO.glob("scenarios/*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            comment = line.partition("#")[2]
            if "fwload " in comment and OPTION.search(comment):
                hints.append(Hint(f"{path.relative_to(REPO)}:{number}", "", comment))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```(?:bash|sh|shell|console)?\n(.*?)```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith(("fwload ", "locust ")) and OPTION.search(line):
                hints.append(Hint("README.md", "", line))
    return hints


@pytest.fixture(scope="module")
def commands() -> dict[str, set[str]]:
    """Command path (``fwload users provision``, ``locust``) → its long options."""
    from fwload.cli import main

    for module in main.SUBCOMMAND_MODULES:
        importlib.import_module(module)
    found: dict[str, set[str]] = {}

    def walk(command: object, path: str) -> None:  # typer's own (vendored) click Command and Group
        found[path] = {"--help"} | {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)
                                    if opt.startswith("--")}
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(main.app), "fwload")
    script = ("import json, sys; sys.path.insert(0, 'locustfiles'); import funkwhale; "
              "from locust.argument_parser import get_parser; "
              "print(json.dumps(sorted(o for a in get_parser()._actions for o in a.option_strings)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found["locust"] = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"--scenario", "--local-pids", "--users"} <= found["locust"], "the plugin's arguments are there"
    return found


def _command_of(mention: str, commands: dict[str, set[str]]) -> str | None:
    """The longest real command a mention names (``fwload run scenarios`` → ``fwload run``)."""
    words = mention.split()
    for length in range(len(words), 0, -1):
        candidate = " ".join(words[:length])
        if candidate != "fwload" and (candidate in commands or candidate in EXTERNAL):
            return candidate
    return None


def _named_command(text: str, position: int, commands: dict[str, set[str]]) -> str | None:
    """The command the text names for the option at ``position``: the last one named before it,
    inside the same backticks, or in the same clause when not quoted."""
    named = None
    for match in MENTION.finditer(text, 0, position):
        command = _command_of(match.group(2), commands)
        if command is None:
            continue
        between = text[match.end():position]
        quoted = match.group(1) == "`"
        if (quoted and "`" not in between) or (not quoted and not CLAUSE_END.search(between)):
            named = command
    return named


def _module_commands(scope: str) -> tuple[str, ...] | None:
    keys = [key for key in MODULE_COMMANDS if scope.startswith(key) or scope.split("::")[0].startswith(key)]
    exact = [key for key in keys if "::" in key and scope == key]
    if exact:
        return MODULE_COMMANDS[exact[0]]
    plain = [key for key in keys if "::" not in key]
    return MODULE_COMMANDS[max(plain, key=len)] if plain else None


def wrong_options(hints: list[Hint], commands: dict[str, set[str]]) -> list[str]:
    problems = []
    for hint in hints:
        for option in OPTION.finditer(hint.text):
            named = _named_command(hint.text, option.start(), commands)
            if named in EXTERNAL:
                continue
            about = (named,) if named else _module_commands(hint.scope)
            if about is None:
                problems.append(f"{hint.where}: {option.group()} in {hint.text!r}: say in MODULE_COMMANDS "
                                "which commands show this module's messages")
                continue
            for command in about:
                if option.group() not in commands[command]:
                    problems.append(f"{hint.where}: {command} has no {option.group()} ({hint.text!r})")
    return problems


def test_every_option_a_message_names_exists_in_the_command_it_is_about(commands):
    hints = source_hints()
    assert len(hints) > 80, "the scan finds the messages"
    assert wrong_options(hints, commands) == []


def test_every_option_in_the_scenarios_comments_and_the_readme_exists(commands):
    hints = document_hints()
    assert any("--duration 10m --users 12" in hint.text for hint in hints)
    assert wrong_options(hints, commands) == []


def test_the_check_catches_an_option_a_command_lacks(commands):
    """The original fault: `fwload run --host` with the processes collector advised --local-pids."""
    shared = Hint("fwload/collectors/selection.py:1", "fwload/collectors/selection.py::build_collector",
                  "let fwload start the stand-in (no --host), or pass --local-pids component=pid")
    assert wrong_options([shared], commands) == [
        f"fwload/collectors/selection.py:1: {command} has no --local-pids ({shared.text!r})"
        for command in ("fwload run", "fwload ui")
    ]
    named = Hint("x.py:1", "fwload/preflight.py::x", "keep tokens: `fwload users tokens --users-file F --count 3`")
    assert wrong_options([named], commands) == [f"x.py:1: fwload users tokens has no --count ({named.text!r})"]

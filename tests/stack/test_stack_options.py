"""Choosing limits and options for stack mode, and refusing bad ones with one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fwload.errors import UsageError
from fwload.limits import COMPONENTS, documented_limits
from fwload.standin.stack import binaries, nginx
from fwload.standin.stack.confine import create_confinement
from fwload.standin.stack.limits import Limit, resolve_limits
from fwload.units import parse_size

MiB = 1024 * 1024


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwload.standin", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def flat(text: str) -> str:
    """The console wraps long messages: compare without the line breaks."""
    return " ".join(text.split())


def test_documented_limits_with_one_override_change_only_what_it_names():
    limits = resolve_limits("k8s", ["celery-worker=memory:40Mi", "api=cpu:1"])
    documented = documented_limits()
    assert limits is not None and set(limits) == set(COMPONENTS)
    assert limits["celery-worker"] == Limit(
        cpu_m=documented["celery-worker"].cpu_limit_m, memory_bytes=40 * MiB
    )
    assert limits["api"] == Limit(cpu_m=1000, memory_bytes=documented["api"].memory_limit_bytes)
    assert limits["nginx"] == Limit(cpu_m=750, memory_bytes=parse_size("256Mi"))


def test_no_limits_and_no_overrides_means_no_cgroups_while_an_override_alone_accounts_the_rest():
    assert resolve_limits("none") is None
    limits = resolve_limits("none", ["nginx=cpu:250m,memory:none"])
    assert limits is not None
    assert limits["nginx"] == Limit(cpu_m=250, memory_bytes=None)
    assert limits["api"] == Limit()
    assert resolve_limits("accounting") == {name: Limit() for name in COMPONENTS}


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("worker=memory:40Mi", "unknown component 'worker'"),
        ("api=disk:1Gi", "'disk:1Gi' is not cpu:<value> or memory:<value>"),
        ("api=memory:lots", "is not a size"),
        ("api=cpu:fast", "is not a CPU quantity"),
        ("api=cpu:0", "cpu must be above zero"),
        ("api=", "sets nothing"),
    ],
)
def test_a_bad_override_is_one_usage_error_naming_it(override, named):
    with pytest.raises(UsageError) as caught:
        resolve_limits("k8s", [override])
    assert named in caught.value.problem and override in caught.value.problem
    assert "celery-worker=memory:40Mi" in (caught.value.fix or "")


def test_stack_options_in_embedded_mode_are_refused():
    result = run_cli("--limits", "k8s")
    assert result.returncode == 2
    assert "need the stack mode" in flat(result.stderr) and "fix: add --mode stack" in flat(result.stderr)
    assert result.stdout == ""


def test_an_unknown_limits_mode_is_refused_before_anything_starts():
    result = run_cli("--mode", "stack", "--limits", "kubernetes")
    assert result.returncode == 2
    assert "--limits" in flat(result.stderr) and "k8s" in flat(result.stderr)


def test_missing_programs_are_listed_in_one_message_with_what_to_install():
    before = set(Path(tempfile.gettempdir()).glob("fwload-stack-*"))
    result = run_cli("--mode", "stack", env={"PATH": "/nonexistent"})
    assert result.returncode == 2, result.stderr
    assert (
        "stack mode needs programs that are not installed: nginx, redis-server (without --redis-url)"
        in flat(result.stderr)
    )
    assert "apt-get install nginx-light redis-server" in flat(result.stderr)
    assert result.stdout == ""
    assert set(Path(tempfile.gettempdir()).glob("fwload-stack-*")) == before


def test_programs_are_found_outside_path_where_debian_keeps_postgresql(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(binaries, "_POSTGRES_DIRS", str(tmp_path / "lib" / "*" / "bin"))
    for major in ("13", "15"):
        program = tmp_path / "lib" / major / "bin" / "initdb"
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    assert binaries.find("initdb") == tmp_path / "lib" / "15" / "bin" / "initdb"
    assert binaries.find("nginx") is None


@pytest.mark.stack
def test_the_generated_nginx_config_is_accepted_by_nginx(tmp_path):
    program = binaries.find("nginx")
    assert program is not None, "nginx is not installed (apt-get install nginx-light)"
    media = tmp_path / "media"
    media.mkdir()
    config = nginx.render_config(
        prefix=tmp_path,
        listen="127.0.0.1:8080",
        upstream="127.0.0.1:5000",
        media_root=media,
        build=nginx.build_info(program),
        run_as_root=os.geteuid() == 0,
    )
    nginx.nginx_command(program, tmp_path, config)
    assert nginx.check_config(program, tmp_path) is None
    assert f"alias {media}/$1;" in config and "internal;" in config
    assert "client_max_body_size 100M;" in config and "access_log off;" in config
    (tmp_path / "nginx.conf").write_text(config.replace("server {", "server {\n        nonsense on;", 1))
    assert "nonsense" in (nginx.check_config(program, tmp_path) or "")


def test_no_cgroup_filesystem_means_no_confinement_and_says_why(tmp_path):
    confinement, why = create_confinement("probe", root=tmp_path)
    assert confinement is None
    assert str(tmp_path) in why and "no memory, cpu and cpuacct cgroups" in why
    assert not list(tmp_path.rglob("fwload-stack-probe"))

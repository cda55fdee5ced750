"""`fwload ui` refusing bad input with one message and its fix, before or while starting Locust."""

from __future__ import annotations

import socket
import subprocess
import sys

from fwload.status import ExitStatus
from tests.webui.uiprocess import FWLOAD, REPO


def fwload(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and stderr with the console's line wrapping undone."""
    result = subprocess.run([*FWLOAD, *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL, check=False)
    return result.returncode, result.stdout, " ".join(result.stderr.split())


def test_a_missing_scenario_is_a_usage_error_and_starts_nothing(tmp_path):
    code, out, err = fwload("ui", str(tmp_path / "nope.yaml"), "--out", str(tmp_path))
    assert code == ExitStatus.USAGE_ERROR
    assert "fwload: error:" in err and "no such scenario file" in err
    assert "Starting Locust" not in err and out == ""


def test_a_web_port_in_use_ends_with_the_fix_and_no_url(tmp_path, write_scenario):
    scenario = write_scenario("busy", "10s")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = fwload("ui", str(scenario), "--host", "http://127.0.0.1:9", "--web-port", str(port),
                                "--out", str(tmp_path / "reports"))
    assert code == ExitStatus.USAGE_ERROR
    assert "Locust stopped before its web UI answered" in err
    assert "pass another --web-port" in err and out == ""


def test_the_command_and_the_table_builders_do_not_import_locust_or_flask():
    probe = ("import sys, fwload.cli.ui, fwload.webui.tables; "
             "print(sorted(m for m in ('locust', 'gevent', 'flask') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.strip() == "[]"

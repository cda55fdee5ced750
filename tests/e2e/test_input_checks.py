"""Bad input is refused before anything starts, and a refused run reports what `fwload run` said.

Every case runs the real command: no stand-in may start and no run directory may be created
for input that can be checked on its own (the users file, the collector, the host, options);
a refusal that needs the target (wrong credentials) is recorded so `fwload report` repeats it.
"""

from __future__ import annotations

import json

import pytest

from fwload.standin.launcher import StandinProcess
from tests.e2e.helpers import FWLOAD, only_run_dir, run

WIDE = {"COLUMNS": "400"}
"""So that no message is wrapped inside a long temporary path."""
SCENARIO = "name: checked\nusers: [{class: Listener}]\nload: {users: 1, duration: 10s}\n"


@pytest.mark.parametrize("extra, files, message", [
    (["--users-file", "{tmp}/users.yaml"], {"users.yaml": "users:\n  - {username: alice}\n"},
     "entry 1 needs a username and a password"),
    (["--collector", "kubernete"], {}, "--collector 'kubernete' is not a collector"),
    (["--collector", "processes", "--host", "http://127.0.0.1:9"], {}, "samples the processes of a local stand-in"),
    (["--kubeconfig", "{tmp}/missing-kubeconfig"], {}, "missing-kubeconfig does not exist"),
    (["--host", "http://127.0.0.1:9/api/v1/"], {}, "use 'http://127.0.0.1:9'"),
    (["--out", "{tmp}/a-file/reports"], {"a-file": "not a folder\n"}, "is not a folder"),
], ids=["users-file", "collector", "processes-collector-remote", "kubeconfig", "host-with-path", "out"])
def test_bad_input_is_refused_before_a_stand_in_starts_or_a_run_directory_exists(tmp_path, extra, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    scenario = tmp_path / "checked.yaml"
    scenario.write_text(SCENARIO)
    args = [arg.format(tmp=tmp_path) for arg in extra]
    out = [] if "--out" in args else ["--out", str(tmp_path / "reports")]
    done = run([*FWLOAD, "run", str(scenario), *args, *out], timeout=60, env=WIDE)
    assert done.code == 2, done.err[-2000:]
    assert message in " ".join(done.err.split()), done.err[-2000:]
    assert "fix:" in done.err and "Traceback" not in done.err
    assert "starting the local stand-in" not in done.err, "nothing may start on bad input"
    assert not (tmp_path / "reports").exists() and not (tmp_path / "a-file" / "reports").exists()


def test_a_host_with_a_path_in_the_scenario_is_refused_naming_the_file_and_the_base_url(tmp_path):
    scenario = tmp_path / "pathy.yaml"
    scenario.write_text(SCENARIO.replace("name: checked\n", "name: pathy\ntarget: {host: 'https://fw.example/api/v1/'}\n"))
    done = run([*FWLOAD, "run", str(scenario), "--out", str(tmp_path / "reports")], timeout=60)
    assert done.code == 2
    text = " ".join(done.err.split())
    assert "pathy.yaml" in text and "use 'https://fw.example'" in text
    assert not (tmp_path / "reports").exists()


def test_a_run_refused_for_wrong_credentials_is_reported_as_run_said_it(tmp_path):
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  - {username: nobody, password: wrong-password-1}\n")
    scenario = tmp_path / "creds.yaml"
    scenario.write_text(SCENARIO.replace("checked", "creds"))
    with StandinProcess() as standin:
        done = run([*FWLOAD, "run", str(scenario), "--host", standin.url, "--users-file", str(users),
                    "--out", str(tmp_path / "reports")], timeout=120)
    assert done.code == 2, done.err[-2000:]
    said = " ".join(done.err.split())
    assert "wrong credentials" in said and "account 'nobody'" in said
    run_dir = only_run_dir(tmp_path / "reports")
    meta = json.loads((run_dir / "run.json").read_text())
    assert (meta["status"], meta["exit_code"]) == ("refused", 2)
    assert "wrong credentials" in meta["refusal"]["problem"] and "fwload users provision" in meta["refusal"]["fix"]
    report = run([*FWLOAD, "report", str(run_dir)], timeout=120)
    assert report.code == 2, report.err[-2000:]
    reported = " ".join(report.err.split())
    assert "REFUSED" in reported and "wrong credentials" in reported
    assert "not ready" not in reported and "dead" not in reported
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["exit_code"] == 2 and not verdict["startup"]["failures"]
    assert "wrong-password-1" not in (run_dir / "verdict.json").read_text() + (run_dir / "summary.md").read_text()


def test_fwload_version_names_fwload_and_locust():
    done = run([*FWLOAD, "--version"], timeout=60)
    assert done.code == 0
    assert done.out.startswith("fwload ") and "Locust 2." in done.out


def test_bare_fwload_prints_its_help_and_exits_0():
    done = run(FWLOAD, timeout=60)
    assert done.code == 0, done.err
    assert "Usage:" in done.out and "fwload" in done.out
    assert "Commands" in done.out and " run " in done.out and " report " in done.out

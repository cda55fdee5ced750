"""The README's examples are real: its scenario and faults blocks validate, its commands exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from fwload.scenario.faults import Faults
from fwload.scenario.loader import scenario_from_text

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def test_the_scenario_example_is_a_valid_scenario():
    (example,) = [block for block in yaml_blocks() if block.startswith("name:")]
    scenario = scenario_from_text(example, source="README.md", check_files=False)
    assert scenario.name == "upload-and-play" and [m.class_name for m in scenario.users] == ["Listener", "Uploader"]


def test_the_faults_example_is_valid():
    (example,) = [block for block in yaml_blocks() if block.startswith("faults:")]
    faults = Faults.model_validate(yaml.safe_load(example)["faults"])
    assert len(faults.describe()) == 8


def test_every_fwload_command_in_the_readme_exists():
    commands = sorted(set(re.findall(r"^\s*fwload ([a-z]+)", README, flags=re.M)) | {"demo", "run", "report"})
    done = subprocess.run([sys.executable, "-m", "fwload", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert [c for c in commands if c not in done.stdout] == []


def test_the_prometheus_collector_example_is_valid_and_its_options_exist():
    from fwload.scenario.collector import CollectorSettings

    (example,) = [block for block in yaml_blocks() if block.startswith("collector:\n  backend: prometheus")]
    settings = CollectorSettings.model_validate(yaml.safe_load(example)["collector"])
    assert settings.backend == "prometheus" and settings.prometheus.bearer_token_env == "PROMETHEUS_TOKEN"
    flags = set(re.findall(r"(--(?:prometheus-[a-z-]+|collect-from|history|step))\b", README))
    helps = " ".join(subprocess.run([sys.executable, "-m", "fwload", command, "--help"], capture_output=True,
                                    text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}).stdout
                     for command in ("run", "report"))
    assert flags and [flag for flag in sorted(flags) if flag not in helps] == []


def test_the_host_scenario_example_is_valid_and_the_detect_output_is_its_collector_section():
    (example,) = [block for block in yaml_blocks() if block.startswith("# scenarios/my-funkwhale.yaml")]
    scenario = scenario_from_text(example, source="README.md", check_files=False)
    assert scenario.collector.backend == "host"
    assert set(scenario.collector.host_components()) == {"nginx", "api", "postgres", "redis", "celery-worker",
                                                         "celery-beat"}
    (detected,) = re.findall(r"```text\n(# fwload host detect.*?)```", README, flags=re.S)
    section = yaml.safe_load(detected)["collector"]
    assert section["backend"] == "host" and len(section["components"]) == 6

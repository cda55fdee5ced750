"""What needs Locust, run in subprocesses: importing Locust in pytest would patch the network."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_scenario_package_does_not_import_locust():
    out = run_python("""
        import sys
        import fwload.scenario, fwload.scenario.schedule, fwload.scenario.arrivals
        fwload.scenario.load_scenario("scenarios/smoke.yaml")
        print(sorted(name for name in sys.modules if name.split(".")[0] in ("locust", "gevent")))
    """)
    assert out == "[]"


def test_scenario_shape_follows_common_options_then_the_active_scenario():
    out = run_python("""
        import argparse, json, time, types
        from fwload.scenario.loader import load_scenario
        from fwload.scenario.shapes import ScenarioShape, set_active_scenario, active_scenario

        shape = ScenarioShape()
        options = argparse.Namespace(num_users=7, spawn_rate=3.0, run_time=100)
        shape.runner = types.SimpleNamespace(environment=types.SimpleNamespace(parsed_options=options))

        def tick_at(elapsed):
            shape.start_time = time.perf_counter() - elapsed
            return shape.tick()

        result = {"common_options": ScenarioShape.use_common_options,
                  "plain": [tick_at(50), tick_at(150)], "active_before": active_scenario() is not None}
        set_active_scenario(load_scenario("scenarios/spike.yaml"))
        result["spike"] = [tick_at(60), tick_at(130), tick_at(400)]
        result["stage"] = tick_at(130) and shape.last_tick.stage
        set_active_scenario(None)
        result["back"] = tick_at(50)
        print(json.dumps(result))
    """)
    assert json.loads(out) == {
        "common_options": True,
        "plain": [[7, 3.0], None],
        "active_before": False,
        "spike": [[5, 5.0], [40, 35.0], None],
        "stage": "spike",
        "back": [7, 3.0],
    }

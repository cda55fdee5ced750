"""Capacity from the known step run: highest load within SLOs, first saturation, projections,
right-sizing (KRR simple and VPA formulas) and the kustomize overlay."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from known_runs import SAMPLE_TIMES, STAGE_S, STAGE_USERS, api_cpu, api_memory, standard_run
from run_builders import DEFAULT_SCENARIO, MI, T0, RunDir

from analysis.analyse import analyse_run
from analysis.capacity.kustomize import base_reference, overlay_files
from analysis.capacity.projection import fit_to_limit
from analysis.capacity.rightsizing import VPA_POD_MIN_MEMORY_BYTES
from analysis.outputs import build_outputs
from fwload.limits import documented_limits


def exact(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q, method="inverted_cdf"))


def test_highest_load_within_slos_is_the_last_passing_step(known):
    truth, analysis = known
    capacity = analysis.capacity
    assert capacity.applicable
    assert list(capacity.levels["slo_passed"]) == [True, True, False]
    assert capacity.highest["users"] == STAGE_USERS[1]
    assert capacity.highest["rps"] == pytest.approx(truth.stage_requests[1] / STAGE_S)
    assert capacity.first_failure["users"] == STAGE_USERS[2]
    assert (
        f"browse p95 {exact(truth.stage_browse[2], 95):.0f} ms > 1000 ms" in capacity.first_failure["broken"]
    )
    assert capacity.verdict.startswith("Highest load within SLOs: 20 users, 3.0 requests/s achieved")


def test_levels_carry_achieved_throughput_per_stage(known):
    truth, analysis = known
    levels = analysis.capacity.levels
    for stage, users in enumerate(STAGE_USERS):
        assert levels.at[stage, "users"] == users
        assert levels.at[stage, "requests"] == truth.stage_requests[stage]
        assert levels.at[stage, "duration_s"] == STAGE_S
    assert levels.at[1, "ok_rps"] == pytest.approx((truth.stage_requests[1] - truth.throttled) / STAGE_S)


def test_first_component_to_saturate_and_the_evidence(known):
    _, analysis = known
    first = analysis.capacity.first_saturated
    assert list(first["component"]) == ["api"] and list(first["users"]) == [20]
    assert first.iloc[0]["evidence"] == ["memory peak 120.0 MiB = 94% of the 128 MiB limit"]
    step3 = analysis.capacity.saturation.loc[lambda frame: frame["stage"] == 2].iloc[0]["evidence"]
    assert step3[:2] == ["1 OOM kill(s)", "1 worker respawn(s)"]
    assert "CPU throttled in 60% of CFS periods" in step3


def test_projection_is_the_linear_fit_solved_for_the_documented_limit(known):
    _, analysis = known
    limit = documented_limits()["api"]
    table = analysis.capacity.projections.set_index(["component", "resource", "load"])
    cpu = table.loc[("api", "cpu", "users")]
    assert (cpu["slope"], cpu["intercept"], cpu["r2"], cpu["points"]) == pytest.approx((10, 50, 1, 3))
    assert cpu["load_at_limit"] == pytest.approx((limit.cpu_limit_m - 50) / 10)
    memory = table.loc[("api", "memory", "users")]
    assert memory["load_at_limit"] == pytest.approx((limit.memory_limit_bytes - 80 * MI) / (2 * MI))
    assert table.loc[("nginx", "cpu", "users"), "note"] == "usage does not grow with load in this run"


def test_fit_needs_two_levels_and_reports_limits_below_the_intercept():
    assert (
        fit_to_limit(np.array([5.0, 5.0]), np.array([1.0, 2.0]), 10)["note"]
        == "needs two load levels or more"
    )
    result = fit_to_limit(np.array([1.0, 2.0]), np.array([200.0, 210.0]), 100)
    assert result["load_at_limit"] == 0 and result["note"] == "at or above the limit with no load"


def test_krr_and_vpa_recommendations_from_the_samples(known):
    truth, analysis = known
    api = analysis.capacity.recommendations.set_index("component").loc["api"]
    assert api["cpu_samples"] == api["memory_samples"] == len(SAMPLE_TIMES)
    assert api["krr_cpu_request_m"] == math.ceil(exact(truth.api_cpu_all, 95))
    assert api["krr_cpu_limit_m"] is None
    assert api["krr_memory_bytes"] == math.ceil(max(truth.api_memory) * 1.15 / MI) * MI
    assert api["vpa_cpu_target_m"] == max(25, math.ceil(exact(truth.api_cpu_all, 90) * 1.15))
    assert api["vpa_memory_target_bytes"] == max(
        VPA_POD_MIN_MEMORY_BYTES, math.ceil(exact(truth.api_memory, 90) * 1.15 / MI) * MI
    )
    assert any("lower bounds" in caveat for caveat in api["caveats"])
    assert any("days of history" in caveat for caveat in api["caveats"])
    nginx = analysis.capacity.recommendations.set_index("component").loc["nginx"]
    assert nginx["vpa_cpu_target_m"] == math.ceil(30 * 1.15)
    assert nginx["vpa_memory_target_bytes"] == VPA_POD_MIN_MEMORY_BYTES


def test_recommendations_are_written_as_a_kustomize_overlay(tmp_path):
    repo = tmp_path / "repo"
    (repo / "k8s" / "base").mkdir(parents=True)
    truth = standard_run(repo / "reports" / "run-1")
    outputs = build_outputs(truth.path, ["json"])
    overlay = truth.path / "recommendations"
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == "funkwhale"
    assert kustomization["resources"] == ["../../../k8s/base"]
    assert (overlay / kustomization["resources"][0]).resolve() == (repo / "k8s" / "base").resolve()
    assert sorted(patch["path"] for patch in kustomization["patches"]) == [
        "api.yaml",
        "celery-worker.yaml",
        "nginx.yaml",
        "postgres.yaml",
    ]
    recommendations = outputs.analysis.capacity.recommendations.set_index("component")
    for name in ("api", "celery-worker", "nginx", "postgres"):
        patch = yaml.safe_load((overlay / f"{name}.yaml").read_text())
        assert (patch["kind"], patch["metadata"]) == ("Deployment", {"name": name, "namespace": "funkwhale"})
        container = patch["spec"]["template"]["spec"]["containers"][0]
        assert container["name"] == name
        expected_memory = f"{int(recommendations.at[name, 'krr_memory_bytes'] // MI)}Mi"
        assert container["resources"] == {
            "requests": {
                "cpu": f"{int(recommendations.at[name, 'krr_cpu_request_m'])}m",
                "memory": expected_memory,
            },
            "limits": {"cpu": None, "memory": expected_memory},
        }
    assert "computed from this run's samples only" in (overlay / "api.yaml").read_text()


def test_components_outside_k8s_base_get_no_patch():
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "component": "standin",
                "krr_cpu_request_m": 10.0,
                "krr_memory_bytes": 64.0 * MI,
                "cpu_samples": 3,
                "memory_samples": 3,
                "caveats": [],
            }
        ]
    )
    assert overlay_files(frame, "../base", "r") == {}


def test_base_reference_falls_back_to_the_repository_layout(tmp_path):
    assert base_reference(tmp_path / "nowhere") == "../../../k8s/base"


def test_a_single_level_run_has_no_capacity_figure(tmp_path):
    builder = RunDir(
        tmp_path / "run", scenario={**DEFAULT_SCENARIO, "load": {"profile": "constant", "users": 5}}
    )
    builder.event(T0, "stage", stage="constant", users=5, spawn_rate=1)
    for index in range(30):
        builder.request(T0 + index, "browse", 100.0)
    analysis = analyse_run(builder.write())
    assert not analysis.capacity.applicable
    assert "two load levels" in analysis.capacity.verdict
    assert analysis.capacity.projections.empty


def test_a_ramp_is_cut_into_levels_with_the_users_at_their_middle(tmp_path):
    scenario = {
        **DEFAULT_SCENARIO,
        "load": {"profile": "ramp", "users": 40, "from_users": 0, "spawn_rate": 5, "duration": "100s"},
    }
    builder = RunDir(tmp_path / "run", scenario=scenario)
    builder.event(T0, "stage", stage="ramp", users=40, spawn_rate=5)
    for second in range(100):
        for _ in range(1 + second // 10):
            builder.request(T0 + second + 0.5, "browse", 100.0 + 10 * second)
    analysis = analyse_run(builder.write(ended_at=T0 + 100))
    levels = analysis.capacity.levels
    assert len(levels) == 10
    assert list(levels["users"]) == [2, 6, 10, 14, 18, 22, 26, 30, 34, 38]
    assert list(levels["requests"]) == [10 * (n + 1) for n in range(10)]
    assert analysis.capacity.highest["users"] == 18
    sixth = [100.0 + 10 * second for second in range(50, 60) for _ in range(6)]
    assert analysis.capacity.first_failure["broken"] == f"browse p50 {exact(sixth, 50):.0f} ms > 600 ms"


def test_imports_queueing_marks_the_celery_worker(tmp_path):
    builder = RunDir(tmp_path / "run")
    builder.stages((T0, 5), (T0 + 60, 10))
    for index in range(20):
        ts = T0 + 61 + index * 2
        builder.request(ts, "upload", 80.0, method="POST")
        builder.import_(
            ts, "timeout" if index % 2 else "finished", 60000.0 if index % 2 else 1000.0, upload=f"u{index}"
        )
    analysis = analyse_run(builder.write(ended_at=T0 + 120))
    row = analysis.capacity.saturation.iloc[0]
    assert (row["stage"], row["component"]) == (1, "celery-worker")
    assert row["evidence"][0].startswith("imports queueing: 10 processed vs 20 accepted")


def test_api_memory_profile_used_by_the_tests_crosses_the_limit():
    assert api_memory(T0 + 150) > documented_limits()["api"].memory_limit_bytes > api_memory(T0 + 70)
    assert api_cpu(T0 + 130) == 350

"""``fwload k8s check`` against the fake API server (real client, real HTTP on 127.0.0.1):
a matching namespace passes; drift exits 3 and names every difference; a cluster that
cannot be read exits 2 with the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fwload.cli.k8s  # noqa: F401  (registers `fwload k8s`)
from fwload.cli.app import app
from tests.fakes.kube_api import FakeCluster, FakeKubeAPI, Resources, seed_funkwhale, unreachable_kubeconfig

NS = "funkwhale"


@pytest.fixture
def cluster() -> FakeCluster:
    cluster = FakeCluster()
    seed_funkwhale(cluster)
    return cluster


@pytest.fixture
def api(cluster: FakeCluster) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(cluster) as fake:
        yield fake


@pytest.fixture
def kubeconfig(api: FakeKubeAPI, tmp_path: Path) -> Path:
    return api.write_kubeconfig(tmp_path / "kubeconfig")


def check(kubeconfig: Path, *extra: str):
    result = CliRunner().invoke(app, ["k8s", "check", "--kubeconfig", str(kubeconfig), *extra],
                                env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def differing_rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if "DIFFERS" in line]


def test_matching_namespace_passes_with_every_check_shown(kubeconfig: Path, cluster: FakeCluster) -> None:
    result = check(kubeconfig)
    assert result.exit_code == 0, result.output
    assert "matches k8s/base" in result.stdout
    assert differing_rows(result.stdout) == []
    for component in ("nginx", "api", "postgres", "redis", "celery-worker", "celery-beat"):
        assert f"funkwhale-{component}" in result.stdout
    assert "served (6 pods with metrics)" in result.stdout
    assert cluster.count(f"/apis/apps/v1/namespaces/{NS}/deployments") == 1


def test_the_rendered_base_applied_as_is_passes(base, tmp_path: Path) -> None:
    """Our own manifests (names, labels, the Ingress's named port) against our own check."""
    cluster = FakeCluster()
    for obj in base:
        if obj["kind"] == "Deployment":
            box = obj["spec"]["template"]["spec"]["containers"][0]
            resources = Resources(box["resources"]["requests"], box["resources"]["limits"])
            cluster.add_deployment(obj["metadata"]["name"], {box["name"]: resources},
                                   labels=obj["spec"]["template"]["metadata"]["labels"], image=box["image"],
                                   usage={"cpu": "1m", "memory": "10Mi"})
        if obj["kind"] == "Ingress":
            backend = obj["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
            cluster.add_ingress(obj["metadata"]["name"], host=obj["spec"]["rules"][0]["host"],
                                service=backend["name"], port=backend["port"]["name"])
    with FakeKubeAPI(cluster) as own:
        result = check(own.write_kubeconfig(tmp_path / "own-kubeconfig"))
    assert result.exit_code == 0, result.stdout
    assert "/ → nginx:http" in result.stdout


def test_a_drifted_limit_exits_3_and_names_it(kubeconfig: Path, cluster: FakeCluster) -> None:
    cluster.deployments[(NS, "funkwhale-api")].containers[0].resources = Resources(
        {"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "256Mi"})
    result = check(kubeconfig)
    assert result.exit_code == 3
    (row,) = differing_rows(result.stdout)
    assert "api" in row and "memory limit" in row and "128Mi" in row and "256Mi" in row
    assert "1 difference(s)" in result.stdout


def test_canonical_quantities_are_not_drift(kubeconfig: Path, cluster: FakeCluster) -> None:
    """The API returns postgres' documented 1000m as "1" and 64Mi may read back as 65536Ki."""
    cluster.deployments[(NS, "funkwhale-postgres")].containers[0].resources = Resources(
        {"cpu": "0.02", "memory": "65536Ki"}, {"cpu": "1", "memory": "268435456"})
    assert check(kubeconfig).exit_code == 0


def test_a_missing_deployment_exits_3(kubeconfig: Path, cluster: FakeCluster) -> None:
    del cluster.deployments[(NS, "funkwhale-celery-beat")]
    result = check(kubeconfig)
    assert result.exit_code == 3
    (row,) = differing_rows(result.stdout)
    assert "celery-beat" in row and "missing" in row
    assert "kubectl apply -k k8s/base" in result.stdout


def test_an_unready_deployment_exits_3(kubeconfig: Path, cluster: FakeCluster) -> None:
    (pod,) = cluster.pods_of("funkwhale-api")
    cluster.restart(pod.name, "api", waiting="CrashLoopBackOff")
    result = check(kubeconfig)
    assert result.exit_code == 3
    (row,) = differing_rows(result.stdout)
    assert "ready" in row and "0/1" in row


def test_an_ingress_of_another_class_or_port_is_drift(kubeconfig: Path, cluster: FakeCluster) -> None:
    cluster.ingresses.clear()
    cluster.add_ingress(service="funkwhale-nginx", port=8080)
    cluster.ingresses[(NS, "funkwhale")]["spec"]["ingressClassName"] = "nginx"
    result = check(kubeconfig)
    assert result.exit_code == 3
    rows = differing_rows(result.stdout)
    assert len(rows) == 2
    assert any("ingress class" in r and "traefik" in r for r in rows)
    assert any(":8080" in r for r in rows)


def test_no_ingress_to_nginx_is_drift(kubeconfig: Path, cluster: FakeCluster) -> None:
    cluster.ingresses.clear()
    cluster.add_ingress(service="something-else")
    result = check(kubeconfig)
    assert result.exit_code == 3
    (row,) = differing_rows(result.stdout)
    assert "none routes / to nginx" in row


@pytest.mark.parametrize(
    ("state", "shown"), [("absent", "not installed (404)"), ("unavailable", "unavailable (503")]
)
def test_a_missing_metrics_api_is_a_difference_with_its_fix(
    kubeconfig: Path, cluster: FakeCluster, state: str, shown: str
) -> None:
    cluster.metrics_api = state
    result = check(kubeconfig)
    assert result.exit_code == 3
    (row,) = differing_rows(result.stdout)
    assert shown in row
    assert "metrics-server" in result.stdout


def test_rbac_denial_exits_2_naming_the_role(kubeconfig: Path, cluster: FakeCluster) -> None:
    cluster.forbid("deployments", group="apps")
    result = check(kubeconfig)
    assert result.exit_code == 2
    assert "RBAC denies listing deployments" in result.stderr
    assert 'cannot list resource "deployments"' in result.stderr
    assert "fwload-collector" in result.stderr
    assert result.stdout == ""


def test_rbac_denial_on_pod_metrics_exits_2(kubeconfig: Path, cluster: FakeCluster) -> None:
    cluster.forbid("pods", group="metrics.k8s.io")
    result = check(kubeconfig)
    assert result.exit_code == 2
    assert "RBAC denies reading pod metrics" in result.stderr


def test_rejected_credentials_exit_2(api: FakeKubeAPI, tmp_path: Path) -> None:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig", token="expired")
    result = check(kubeconfig)
    assert result.exit_code == 2
    assert "401 Unauthorized" in result.stderr and "credentials" in result.stderr


def test_unreachable_api_server_exits_2(tmp_path: Path) -> None:
    result = check(unreachable_kubeconfig(tmp_path / "kubeconfig"))
    assert result.exit_code == 2
    assert "cannot reach the Kubernetes API at http://127.0.0.1:" in result.stderr
    assert "kubectl cluster-info" in result.stderr


def test_unknown_context_and_missing_kubeconfig_are_usage_errors(kubeconfig: Path, tmp_path: Path) -> None:
    result = check(kubeconfig, "--context", "nope")
    assert result.exit_code == 2 and "kubectl config get-contexts" in result.stderr
    missing = check(tmp_path / "absent")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_another_namespace_is_checked_where_asked(kubeconfig: Path, cluster: FakeCluster) -> None:
    result = check(kubeconfig, "--namespace", "elsewhere")
    assert result.exit_code == 3
    assert len([r for r in differing_rows(result.stdout) if "missing" in r]) == 6
    assert cluster.count("/apis/apps/v1/namespaces/elsewhere/deployments") == 1

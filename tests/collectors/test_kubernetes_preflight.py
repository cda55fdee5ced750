"""`check_connection`: each way a cluster can be unusable gives one message naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwload.collectors.kubernetes import KubernetesCollector
from fwload.errors import FwloadError, TargetError, UsageError
from tests.fakes.kube_api import FakeCluster, FakeKubeAPI, seed_funkwhale, unreachable_kubeconfig


def preflight_error(kubeconfig: Path) -> FwloadError:
    with pytest.raises(FwloadError) as caught:
        KubernetesCollector(kubeconfig=str(kubeconfig)).check_connection()
    return caught.value


def test_healthy_cluster_passes_with_no_notices(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    sampler = KubernetesCollector(kubeconfig=str(kubeconfig))
    assert sampler.check_connection() == []
    assert sampler.collect().events == []


def test_rbac_denied_pods_names_the_verb_and_the_role_rule(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.forbid("pods", verb="list")
    error = preflight_error(kubeconfig)
    assert error.problem == ('the API server refused to let fwload list pods in namespace funkwhale: RBAC '
                             'denies list pods (API group core) in namespace "funkwhale" to '
                             'system:serviceaccount:funkwhale:fwload')
    assert '{apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}' in error.fix
    assert ("kubectl -n funkwhale create role fwload-collector --verb=get,list --resource=pods && kubectl -n "
            "funkwhale create rolebinding fwload-collector --role=fwload-collector "
            "--serviceaccount=funkwhale:fwload") in error.fix


def test_rbac_denied_pod_metrics_names_the_metrics_group(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.forbid("pods", group="metrics.k8s.io")
    error = preflight_error(kubeconfig)
    assert "read pod metrics in namespace funkwhale" in error.problem
    assert 'list pods (API group metrics.k8s.io) in namespace "funkwhale"' in error.problem
    assert '{apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: ["get", "list"]}' in error.fix
    assert "--resource=pods.metrics.k8s.io" in error.fix


def test_rbac_denied_deployments_names_the_apps_group(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.forbid("deployments", group="apps")
    error = preflight_error(kubeconfig)
    assert '{apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"]}' in error.fix


def test_metrics_group_missing_says_install_metrics_server(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.metrics_api = "absent"
    error = preflight_error(kubeconfig)
    assert "the metrics API is not installed" in error.problem
    assert "metrics.k8s.io is not served" in error.problem
    assert "install metrics-server" in error.fix


def test_metrics_resource_404_while_group_listed_is_not_installed(cluster: FakeCluster, kubeconfig: Path):
    seed_funkwhale(cluster)
    cluster.fail("/apis/metrics.k8s.io/v1beta1/namespaces", 404)
    error = preflight_error(kubeconfig)
    assert "PodMetrics resource answers 404" in error.problem


@pytest.mark.parametrize(("mode", "said"), [
    ("unavailable", "503 service unavailable"),
    ("proxy_error", "503 Error: 'dial tcp 10.43.169.155:443: i/o timeout'"),
])
def test_metrics_503_text_body_says_metrics_server_is_down(cluster: FakeCluster, kubeconfig: Path,
                                                           mode: str, said: str):
    seed_funkwhale(cluster)
    cluster.metrics_api = mode
    error = preflight_error(kubeconfig)
    assert error.problem.startswith("the metrics API (metrics.k8s.io) is registered but unavailable: " + said)
    assert "kubectl get apiservice v1beta1.metrics.k8s.io" in error.fix


def test_unreachable_server_names_the_address_and_the_context(tmp_path: Path):
    config = unreachable_kubeconfig(tmp_path / "kc", context="staging")
    server = KubernetesCollector(kubeconfig=str(config)).connection.server
    with pytest.raises(TargetError) as caught:
        KubernetesCollector(kubeconfig=str(config)).check_connection()
    assert caught.value.problem == (f"cannot reach the Kubernetes API server at {server} (context staging): "
                                    "connection refused")
    assert "kubectl --context staging cluster-info" in caught.value.fix


def test_wrong_token_is_401_and_never_printed(cluster: FakeCluster, fake_api: FakeKubeAPI, tmp_path: Path):
    config = fake_api.write_kubeconfig(tmp_path / "kc", token="s3cret-wrong-token")
    with pytest.raises(TargetError) as caught:
        KubernetesCollector(kubeconfig=str(config)).check_connection()
    assert "rejected the credentials (401 Unauthorized)" in caught.value.problem
    assert "s3cret" not in str(caught.value)


def test_missing_kubeconfig_and_unknown_context_are_usage_errors(kubeconfig: Path, tmp_path: Path):
    with pytest.raises(UsageError) as missing:
        KubernetesCollector(kubeconfig=str(tmp_path / "nope"))
    assert missing.value.problem == f"no kubeconfig at {tmp_path / 'nope'}"
    with pytest.raises(UsageError) as context:
        KubernetesCollector(kubeconfig=str(kubeconfig), context="prod")
    assert context.value.problem == f"context 'prod' is not in kubeconfig {kubeconfig}"
    assert "config get-contexts" in context.value.fix


def test_empty_namespace_is_a_notice_not_an_error(cluster: FakeCluster, kubeconfig: Path):
    notices = KubernetesCollector(kubeconfig=str(kubeconfig), namespace="empty").check_connection()
    assert notices == ["no pods found in namespace empty: nothing will be sampled until some start"]


def test_no_credentials_anywhere_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(UsageError) as caught:
        KubernetesCollector()
    assert caught.value.problem == ("no Kubernetes credentials found: KUBECONFIG is unset, "
                                    "~/.kube/config does not exist and fwload is not running in a pod")
    assert "--kubeconfig PATH" in caught.value.fix


def test_kubeconfig_env_is_read_when_the_collector_is_made(cluster: FakeCluster, kubeconfig: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    seed_funkwhale(cluster)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    sampler = KubernetesCollector()
    assert sampler.connection.source == f"kubeconfig {kubeconfig}"
    assert len(sampler.collect().samples) == 6


def test_in_cluster_without_a_service_account_is_a_usage_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(UsageError) as caught:
        KubernetesCollector(in_cluster=True)
    assert caught.value.problem == ("cannot use the in-cluster Kubernetes credentials: "
                                    "Service host/port is not set.")


def test_a_server_that_is_not_kubernetes_is_named_as_such(cluster: FakeCluster, kubeconfig: Path):
    cluster.fail("/apis/", 200, body="<html>welcome to nginx</html>")
    error = preflight_error(kubeconfig)
    assert "gave an answer fwload cannot read when trying to list the API groups" in error.problem
    assert "kubectl cluster-info" in error.fix

"""The fake API server itself, as other tests use it: typed client calls, exec, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from tests.fakes.kube_api import ExecCall, ExecResult, FakeCluster, seed_funkwhale


@pytest.fixture
def api_client(kubeconfig: Path):
    api = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    yield api
    api.close()


def test_typed_models_read_the_seeded_cluster(cluster: FakeCluster, api_client):
    seed_funkwhale(cluster)
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    pods = core.list_namespaced_pod("funkwhale", label_selector="app.kubernetes.io/component=postgres").items
    assert len(pods) == 1
    pod = pods[0]
    assert pod.metadata.owner_references[0].kind == "ReplicaSet"
    assert pod.metadata.name.startswith(pod.metadata.owner_references[0].name + "-")
    assert pod.spec.containers[0].resources.limits == {"cpu": "1", "memory": "256Mi"}
    deployment = apps.read_namespaced_deployment("funkwhale-postgres", "funkwhale")
    assert (deployment.status.ready_replicas, deployment.spec.replicas) == (1, 1)
    ingress = client.NetworkingV1Api(api_client).list_namespaced_ingress("funkwhale").items[0]
    assert ingress.spec.rules[0].host == "funkwhale.example.test"
    assert ingress.spec.rules[0].http.paths[0].backend.service.port.number == 80
    assert core.list_namespaced_pod("nowhere").items == []


def test_unhealthy_deployment_omits_ready_replicas(cluster: FakeCluster, api_client):
    seed_funkwhale(cluster)
    cluster.restart(cluster.pods_of("funkwhale-api")[0].name, "api", waiting="CrashLoopBackOff")
    status = client.AppsV1Api(api_client).read_namespaced_deployment("funkwhale-api", "funkwhale").status
    assert status.ready_replicas is None and status.unavailable_replicas == 1
    pod = client.CoreV1Api(api_client).list_namespaced_pod(
        "funkwhale", label_selector="app.kubernetes.io/component=api").items[0]
    container = pod.status.container_statuses[0]
    assert container.restart_count == 1
    assert container.last_state.terminated.reason == "OOMKilled"
    assert container.state.waiting.reason == "CrashLoopBackOff"


def test_missing_deployment_is_a_404_status(cluster: FakeCluster, api_client):
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api_client).read_namespaced_deployment("funkwhale-api", "funkwhale")
    assert caught.value.status == 404
    assert '"message":"deployments.apps \\"funkwhale-api\\" not found"' in caught.value.body


def test_exec_returns_output_and_exit_code_over_the_websocket(cluster: FakeCluster, api_client):
    seed_funkwhale(cluster)
    pod = cluster.pods_of("funkwhale-api")[0].name
    core = client.CoreV1Api(api_client)

    def manage(call: ExecCall) -> ExecResult:
        if call.command[-1].startswith("funkwhale-manage fw users create"):
            return ExecResult(stdout="User created\n", stderr="warning\n")
        return ExecResult(stderr="no such user\n", exit_code=3)

    cluster.exec_handler = manage
    output = stream(core.connect_get_namespaced_pod_exec, pod, "funkwhale", container="api",
                    command=["sh", "-c", "funkwhale-manage fw users create --name u1"],
                    stderr=True, stdin=False, stdout=True, tty=False)
    assert output == "User created\nwarning\n"
    ws = stream(core.connect_get_namespaced_pod_exec, pod, "funkwhale", container="api", command=["false"],
                stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=10)
    assert (ws.read_stderr(), ws.returncode, ws.subprotocol) == ("no such user\n", 3, "v5.channel.k8s.io")
    ws.close()
    assert [c.command for c in cluster.exec_calls] == [
        ["sh", "-c", "funkwhale-manage fw users create --name u1"], ["false"]]
    assert cluster.exec_calls[0].container == "api"


def test_exec_speaks_v4_when_the_server_is_older(cluster: FakeCluster, api_client):
    seed_funkwhale(cluster)
    cluster.exec_protocols = ("v4.channel.k8s.io",)
    pod = cluster.pods_of("funkwhale-api")[0].name
    core = client.CoreV1Api(api_client)
    ws = stream(core.connect_get_namespaced_pod_exec, pod, "funkwhale", container="api", command=["true"],
                stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=10)
    assert (ws.read_stdout(), ws.returncode, ws.subprotocol) == ("ran: true\n", 0, "v4.channel.k8s.io")
    ws.close()


def test_exec_forbidden_fails_the_handshake_with_the_status(cluster: FakeCluster, api_client):
    seed_funkwhale(cluster)
    cluster.forbid("pods/exec")
    pod = cluster.pods_of("funkwhale-api")[0].name
    with pytest.raises(ApiException) as caught:
        core = client.CoreV1Api(api_client)
        stream(core.connect_get_namespaced_pod_exec, pod, "funkwhale", container="api", command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False)
    assert caught.value.status == 0
    assert "Handshake status 403 Forbidden" in str(caught.value)
    denied = 'cannot create resource \\"pods/exec\\" in API group \\"\\" in the namespace \\"funkwhale\\"'
    assert denied in str(caught.value)


def test_request_counters_and_wrong_token(cluster: FakeCluster, fake_api, tmp_path: Path):
    bad = config.new_client_from_config(
        config_file=str(fake_api.write_kubeconfig(tmp_path / "kc", token="nope")), persist_config=False)
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(bad).list_namespaced_pod("funkwhale")
    bad.close()
    assert caught.value.status == 401
    assert cluster.count("/api/v1/namespaces/funkwhale/pods") == 1

"""k8s/locust: master and workers, the ConfigMaps made from the repo's own locustfiles and
scenarios, the collector's read-only RBAC, the opt-in kubelet access and the CI Job."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.k8s.conftest import K8S, REPO, container, find, find_generated

FOLDERS = [("locustfiles", "*.py", "fwload-locustfiles"), ("scenarios", "*.yaml", "fwload-scenarios")]


def kustomization_text(folder: str, pattern: str, configmap: str) -> str:
    files = sorted(p.name for p in (REPO / folder).glob(pattern))
    return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n"
            f"  - name: {configmap}\n    files:\n" + "".join(f"      - {name}\n" for name in files))


@pytest.mark.parametrize(("folder", "pattern", "configmap"), FOLDERS)
def test_folder_kustomization_ships_every_file_of_its_folder(
    folder: str, pattern: str, configmap: str
) -> None:
    """k8s/locust mounts these ConfigMaps; a file missing from the list would be missing in the pods."""
    kustomization = REPO / folder / "Kustomization"
    assert kustomization.is_file(), (
        f"{kustomization.relative_to(REPO)} is missing (k8s/locust/common builds its ConfigMap from it). "
        f"Create it with:\n{kustomization_text(folder, pattern, configmap)}")
    generators = yaml.safe_load(kustomization.read_text())["configMapGenerator"]
    (generator,) = [g for g in generators if g["name"] == configmap]
    files = sorted(p.name for p in (REPO / folder).glob(pattern))
    assert files, f"no {pattern} in {folder}/"
    assert sorted(generator["files"]) == files, f"update {kustomization.relative_to(REPO)}:\n" + \
        kustomization_text(folder, pattern, configmap)


@pytest.mark.parametrize(("folder", "pattern", "configmap"), FOLDERS)
def test_configmaps_hold_the_repository_files_verbatim(
    locust, folder: str, pattern: str, configmap: str
) -> None:
    data = find_generated(locust, "ConfigMap", configmap)["data"]
    assert data == {p.name: p.read_text() for p in (REPO / folder).glob(pattern)}


def mounts(deployment: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, str]:
    """mountPath -> what is mounted there (ConfigMap name prefix, claim, or emptyDir)."""
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    found = {}
    for mount in container(deployment)["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            found[mount["mountPath"]] = volume["configMap"]["name"].rsplit("-", 1)[0]
        elif "persistentVolumeClaim" in volume:
            found[mount["mountPath"]] = "claim:" + volume["persistentVolumeClaim"]["claimName"]
        elif "secret" in volume:
            optional = "optional " if volume["secret"].get("optional") else ""
            found[mount["mountPath"]] = f"{optional}secret:" + volume["secret"]["secretName"]
        else:
            assert volume == {"name": mount["name"], "emptyDir": {}}
            found[mount["mountPath"]] = "emptyDir"
    return found


def test_master_runs_plain_locust_with_the_scenario_and_serves_ui_and_worker_port(locust) -> None:
    master = find(locust, "Deployment", "locust-master")
    box = container(master)
    assert box["command"] == [
        "locust",
        "-f",
        "locustfiles/funkwhale.py",
        "--master",
        "--scenario",
        "$(FWLOAD_SCENARIO)",
    ]
    settings = find_generated(locust, "ConfigMap", "fwload-settings")["data"]
    assert settings["FWLOAD_SCENARIO"].startswith("/scenarios/")
    assert (REPO / "scenarios" / settings["FWLOAD_SCENARIO"].removeprefix("/scenarios/")).is_file()
    assert box["envFrom"] == [{"configMapRef": {"name": find_generated(locust, "ConfigMap", "fwload-settings")
                                                ["metadata"]["name"]}}]
    assert {p["name"]: p["containerPort"] for p in box["ports"]} == {"web": 8089, "master": 5557}
    service = find(locust, "Service", "locust-master")
    assert service["spec"]["type"] == "ClusterIP"
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"web": 8089, "master": 5557}
    assert service["spec"]["selector"].items() <= master["spec"]["template"]["metadata"]["labels"].items()
    assert master["spec"]["template"]["spec"]["serviceAccountName"] == "fwload"
    assert mounts(master, locust) == {
        "/fwload/locustfiles": "fwload-locustfiles",
        "/scenarios": "fwload-scenarios",
        "/runs": "claim:locust-master-runs",
        "/fixtures": "emptyDir",
        "/etc/fwload/users": "optional secret:fwload-users",
    }


def test_workers_connect_to_the_master_service_and_scale_by_replicas(locust) -> None:
    workers = find(locust, "Deployment", "locust-worker")
    assert container(workers)["command"] == ["locust", "-f", "locustfiles/funkwhale.py", "--worker",
                                             "--master-host", "locust-master"]
    assert workers["spec"]["replicas"] == 2
    assert workers["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert mounts(workers, locust)["/fwload/locustfiles"] == "fwload-locustfiles"
    assert container(workers)["resources"]["limits"]["cpu"] == "1"


def test_every_locust_pod_may_read_a_provisioned_users_file(locust, locust_job) -> None:
    """`kubectl create secret generic fwload-users --from-file=users.yaml` is all it takes."""
    pods = [o for o in locust + locust_job if o["kind"] in ("Deployment", "Job")]
    assert len(pods) == 3
    for pod in pods:
        assert mounts(pod, locust)["/etc/fwload/users"] == "optional secret:fwload-users"
    assert not [o for o in locust + locust_job if o["kind"] == "Secret"], "no credentials in the manifests"


def test_no_ingress_for_the_locust_ui(locust, locust_job) -> None:
    assert not [o for o in locust + locust_job if o["kind"] == "Ingress"]
    assert all(o["spec"].get("type", "ClusterIP") == "ClusterIP" for o in locust if o["kind"] == "Service")


def test_collector_role_is_read_only_and_exactly_what_it_needs(locust) -> None:
    role = find(locust, "Role", "fwload-collector")
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): sorted(r["verbs"]) for r in role["rules"]}
    assert rules == {
        (("",), ("pods",)): ["get", "list"],
        (("metrics.k8s.io",), ("pods",)): ["get", "list"],
        (("apps",), ("deployments",)): ["get", "list"],
        (("networking.k8s.io",), ("ingresses",)): ["get", "list"],
    }
    binding = find(locust, "RoleBinding", "fwload-collector")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "fwload-collector",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "fwload", "namespace": "funkwhale"}]
    find(locust, "ServiceAccount", "fwload")
    assert not [o for o in locust if o["kind"].startswith("Cluster")], "cluster-wide access is opt-in only"


def test_kubelet_metrics_access_is_a_separate_opt_in_component(overlay) -> None:
    objects = overlay(resources=[K8S / "locust"], components=[K8S / "locust" / "cadvisor"])
    role = find(objects, "ClusterRole", "fwload-kubelet-metrics")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]
    binding = find(objects, "ClusterRoleBinding", "fwload-kubelet-metrics")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "fwload", "namespace": "funkwhale"}]
    assert "namespace" not in role["metadata"]


def test_ci_job_runs_fwload_once_and_keeps_the_run_directory(locust_job) -> None:
    job = find(locust_job, "Job", "fwload-run")
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "fwload"
    box = container(job)
    assert box["command"] == [
        "fwload",
        "run",
        "$(FWLOAD_SCENARIO)",
        "--host",
        "$(LOCUST_HOST)",
        "--out",
        "/runs",
    ]
    assert mounts(job, locust_job)["/runs"] == "claim:fwload-runs"
    claim = find(locust_job, "PersistentVolumeClaim", "fwload-runs")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert not [o for o in locust_job if o["kind"] == "Deployment"]


def test_all_locust_pods_use_the_fwload_image_built_from_this_repo(locust, locust_job) -> None:
    images = {container(o)["image"] for o in locust + locust_job if o["kind"] in ("Deployment", "Job")}
    assert images == {"fwload:0.1.0"}
    dockerfile = (K8S / "locust" / "Dockerfile").read_text()
    assert "FWLOAD_K8S_BASE=/fwload/k8s/base" in dockerfile
    assert "WORKDIR /fwload" in dockerfile and "COPY k8s/base ./k8s/base" in dockerfile


def test_locust_objects_are_labelled_apart_from_funkwhale(locust) -> None:
    for obj in locust:
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "fwload"
        assert obj["metadata"].get("namespace", "funkwhale") == "funkwhale"

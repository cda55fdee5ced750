"""Every kustomization renders offline, and every object it renders passes strict schema
validation against the Kubernetes 1.37 OpenAPI schemas (kubernetes-validate, offline)."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.k8s.conftest import K8S, kustomize

KUBERNETES_VERSION = "1.37"


def invalid(objects: list[dict[str, Any]]) -> list[str]:
    """One line per object that fails strict validation (or has no schema at all)."""
    problems = []
    for obj in objects:
        where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{where}: {error.message}")
    return problems


@pytest.mark.parametrize("folder", ["base", "locust", "locust/job", "overlays/staging"])
def test_kustomization_renders_objects_that_pass_strict_validation(folder: str) -> None:
    objects = kustomize(K8S / folder)
    assert objects
    assert invalid(objects) == []


def test_cadvisor_component_renders_valid_cluster_rbac(overlay) -> None:
    objects = overlay(resources=[K8S / "locust"], components=[K8S / "locust" / "cadvisor"])
    assert invalid(objects) == []
    kinds = {o["kind"] for o in objects}
    assert {"ClusterRole", "ClusterRoleBinding"} <= kinds


def test_fetch_runs_pod_is_valid() -> None:
    pod = yaml.safe_load((K8S / "locust" / "job" / "fetch-runs.yaml").read_text())
    assert invalid([pod]) == []
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]]
    job_claims = [v["persistentVolumeClaim"]["claimName"] for o in kustomize(K8S / "locust" / "job")
                  if o["kind"] == "Job" for v in o["spec"]["template"]["spec"]["volumes"]
                  if "persistentVolumeClaim" in v]
    assert claims == job_claims == ["fwload-runs"]


def test_staging_api_limits_example_patch_applies(overlay) -> None:
    staging = K8S / "overlays" / "staging"
    objects = overlay(
        resources=[staging], patches={"api-limits.yaml": (staging / "api-limits.yaml").read_text()}
    )
    assert invalid(objects) == []
    api = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "api")
    assert api["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"


def test_strict_validation_rejects_an_unknown_field(base: list[dict[str, Any]]) -> None:
    """The validator really is strict: a misspelt field in a Deployment is reported."""
    deployment = copy.deepcopy(next(o for o in base if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {"limits": {"cpu": "1"}}
    problems = invalid([deployment])
    assert len(problems) == 1 and "resource" in problems[0]


def test_strict_validation_rejects_a_wrong_type(base: list[dict[str, Any]]) -> None:
    service = copy.deepcopy(next(o for o in base if o["kind"] == "Service" and o["spec"].get("ports")))
    service["spec"]["ports"][0]["port"] = "eighty"
    assert len(invalid([service])) == 1


def test_every_manifest_file_is_listed_by_its_kustomization() -> None:
    """A YAML file left out of `resources:` would never be applied (or checked)."""
    unlisted = []
    for kustomization in K8S.rglob("kustomization.yaml"):
        folder = kustomization.parent
        listed = yaml.safe_load(kustomization.read_text())
        named = {str(entry) for entry in listed.get("resources") or []}
        named |= {p["path"] for p in listed.get("patches") or [] if "path" in p}
        for manifest in folder.glob("*.yaml"):
            if manifest.name == "kustomization.yaml" or manifest.name in named:
                continue
            if manifest.name in {"fetch-runs.yaml", "api-limits.yaml"}:  # documented, applied by hand
                continue
            unlisted.append(str(manifest.relative_to(K8S)))
    assert unlisted == []


@pytest.mark.parametrize("folder", ["base", "locust", "locust/job"])
def test_every_variable_reference_names_a_variable_of_its_container(folder: str) -> None:
    """Kubernetes leaves an unknown $(NAME) in a command or value as literal text."""
    objects = kustomize(K8S / folder)
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    dangling = []
    for obj in objects:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for box in spec.get("containers", []):
            defined = {e["name"] for e in box.get("env", [])}
            for source in box.get("envFrom", []):
                defined |= set(config_maps.get(source.get("configMapRef", {}).get("name"), {}))
            texts = list(box.get("command", [])) + list(box.get("args", []))
            texts += [e.get("value", "") for e in box.get("env", [])]
            for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(texts)):
                if name not in defined:
                    dangling.append(f"{obj['metadata']['name']}/{box['name']}: $({name})")
    assert dangling == []

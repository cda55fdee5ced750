"""The staging overlay shows how a team sets its host, image tags, replicas and limits,
while the Funkwhale components keep the documented limits."""

from __future__ import annotations

from fwload.limits import container_limits, documented_limits
from tests.k8s.conftest import K8S, container, find, find_generated

HOST = "funkwhale.staging.example.org"


def test_the_host_is_set_once_and_reaches_ingress_probes_and_nginx(staging) -> None:
    assert find_generated(staging, "ConfigMap", "funkwhale-env")["data"]["FUNKWHALE_HOSTNAME"] == HOST
    assert find(staging, "Ingress", "nginx")["spec"]["rules"][0]["host"] == HOST
    api = container(find(staging, "Deployment", "api"))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"]["httpHeaders"] == [{"name": "Host", "value": HOST}]
    assert HOST not in str(find_generated(staging, "ConfigMap", "nginx-templates")), "nginx reads it from env"


def test_a_merged_hostname_without_the_component_would_leave_the_ingress_behind(overlay) -> None:
    """Why the overlay lists components/hostname again: kustomize runs base's copy before the merge."""
    objects = overlay(resources=[K8S / "base"], extra=(
        "configMapGenerator:\n  - name: funkwhale-env\n    behavior: merge\n    literals:\n"
        f"      - FUNKWHALE_HOSTNAME={HOST}\n"))
    assert find(objects, "Ingress", "nginx")["spec"]["rules"][0]["host"] != HOST


def test_image_tags_and_registry_are_set_by_the_overlay(staging) -> None:
    images = {o["metadata"]["name"]: container(o)["image"] for o in staging if o["kind"] == "Deployment"}
    assert images["api"] == images["celery-worker"] == images["celery-beat"] == "funkwhale/api:1.4.0"
    assert images["nginx"] == "funkwhale/front:1.4.0"
    assert images["locust-master"] == images["locust-worker"] == "registry.staging.example.org/fwload:0.1.0"


def test_worker_replicas_and_load_generator_limits_are_patched(staging) -> None:
    workers = find(staging, "Deployment", "locust-worker")
    assert workers["spec"]["replicas"] == 4
    assert container(workers)["resources"] == {"requests": {"cpu": "1", "memory": "512Mi"},
                                               "limits": {"cpu": "1", "memory": "1Gi"}}


def test_funkwhale_components_keep_the_documented_limits(staging) -> None:
    documented = documented_limits()
    rendered = {
        o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: container_limits(
            container(o)["resources"]
        )
        for o in staging
        if o["kind"] == "Deployment"
        and o["metadata"]["labels"].get("app.kubernetes.io/part-of") == "funkwhale"
    }
    assert rendered == documented

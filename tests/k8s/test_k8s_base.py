"""The rendered k8s/base is the seed's deployment: components, labels, images, env, probes,
storage, services and the one Ingress (values from DESIGN.md §2 and funkwhale-api.md §5-§9)."""

from __future__ import annotations

from typing import Any

import pytest

from fwload.limits import COMPONENTS
from tests.k8s.conftest import container, find, find_generated

LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
          "app.kubernetes.io/part-of")
FUNKWHALE_IMAGE = "funkwhale/api:1.4.0"


def deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: o
            for o in objects if o["kind"] == "Deployment"}


def env_of(box: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in box.get("env", [])}


def test_everything_lives_in_the_funkwhale_namespace(base) -> None:
    find(base, "Namespace", "funkwhale")
    namespaced = [o for o in base if o["kind"] != "Namespace"]
    assert {o["metadata"].get("namespace") for o in namespaced} == {"funkwhale"}


def test_one_deployment_and_one_service_per_component(base) -> None:
    assert sorted(deployments(base)) == sorted(COMPONENTS)
    services = [o for o in base if o["kind"] == "Service"]
    selected = sorted(s["spec"]["selector"]["app.kubernetes.io/component"] for s in services)
    assert selected == sorted(COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_pods_and_service_carry_the_standard_labels(base, component: str) -> None:
    deployment = deployments(base)[component]
    for labels in (deployment["metadata"]["labels"], deployment["spec"]["template"]["metadata"]["labels"]):
        assert set(LABELS) <= set(labels)
        assert labels["app.kubernetes.io/component"] == component
        assert labels["app.kubernetes.io/part-of"] == "funkwhale"
        assert labels["app.kubernetes.io/instance"] == "funkwhale"
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert selector["app.kubernetes.io/component"] == component
    service = find(base, "Service", deployment["metadata"]["name"])
    assert service["spec"]["selector"] == selector
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == component


def test_api_worker_and_beat_share_the_official_image_others_use_the_compose_images(base) -> None:
    images = {name: container(d)["image"] for name, d in deployments(base).items()}
    assert images == {
        "api": FUNKWHALE_IMAGE,
        "celery-worker": FUNKWHALE_IMAGE,
        "celery-beat": FUNKWHALE_IMAGE,
        "postgres": "postgres:15-alpine",
        "redis": "redis:7-alpine",
        "nginx": "funkwhale/front:1.4.0",
    }


def test_funkwhale_settings_use_the_real_variable_names(base) -> None:
    settings = find_generated(base, "ConfigMap", "funkwhale-env")["data"]
    for name in ("FUNKWHALE_HOSTNAME", "CACHE_URL", "MEDIA_ROOT", "STATIC_ROOT", "NGINX_MAX_BODY_SIZE",
                 "DJANGO_SETTINGS_MODULE", "FUNKWHALE_PROTOCOL", "REVERSE_PROXY_TYPE"):
        assert settings.get(name), name
    assert settings["CACHE_URL"] == "redis://redis:6379/0"
    assert settings["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    api = container(deployments(base)["api"])
    env = env_of(api)
    assert (
        env["DATABASE_URL"]["value"] == "postgresql://funkwhale:$(POSTGRES_PASSWORD)@postgres:5432/funkwhale"
    )
    assert env["FUNKWHALE_WEB_WORKERS"]["value"] == "1"
    assert env["DJANGO_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "DJANGO_SECRET_KEY"
    names = [e["name"] for e in api["env"]]
    assert names.index("POSTGRES_PASSWORD") < names.index("DATABASE_URL"), (
        "$(VAR) only sees earlier variables"
    )


@pytest.mark.parametrize("component", ["api", "celery-worker", "celery-beat"])
def test_python_components_read_settings_and_secrets_from_one_place(base, component: str) -> None:
    box = container(deployments(base)[component])
    assert [s["configMapRef"]["name"] for s in box["envFrom"]] == [
        find_generated(base, "ConfigMap", "funkwhale-env")["metadata"]["name"]]
    secret = find_generated(base, "Secret", "funkwhale-secrets")["metadata"]["name"]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in box["env"] if "valueFrom" in e}
    assert refs == {secret}


def test_secrets_are_generated_with_marked_placeholders(base) -> None:
    import base64

    secret = find_generated(base, "Secret", "funkwhale-secrets")
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(values) == {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"}
    assert all(v.startswith("REPLACE-ME") for v in values.values())
    postgres = container(deployments(base)["postgres"])
    assert (
        env_of(postgres)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        == secret["metadata"]["name"]
    )


def test_celery_concurrency_is_pinned_not_left_to_the_node_cpu_count(base) -> None:
    worker = container(deployments(base)["celery-worker"])
    assert env_of(worker)["CELERYD_CONCURRENCY"]["value"] == "1"
    assert "--concurrency=$(CELERYD_CONCURRENCY)" in worker["command"]
    assert worker["command"][:3] == ["celery", "--app=funkwhale_api.taskapp", "worker"]
    beat = container(deployments(base)["celery-beat"])
    assert beat["command"][:3] == ["celery", "--app=funkwhale_api.taskapp", "beat"]
    assert deployments(base)["celery-beat"]["spec"]["replicas"] == 1


def test_api_probes_ask_nodeinfo_with_the_instance_hostname(base) -> None:
    hostname = find_generated(base, "ConfigMap", "funkwhale-env")["data"]["FUNKWHALE_HOSTNAME"]
    api = container(deployments(base)["api"])
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert ports == {"http": 5000}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = api[probe]["httpGet"]
        assert http["path"] == "/api/v1/instance/nodeinfo/2.0/"
        assert http["port"] == "http"
        assert http["httpHeaders"] == [{"name": "Host", "value": hostname}]
        assert api[probe]["timeoutSeconds"] >= 5


def test_postgres_and_redis_have_tcp_and_exec_probes(base) -> None:
    for component, port in (("postgres", 5432), ("redis", 6379)):
        box = container(deployments(base)[component])
        assert box["ports"][0]["containerPort"] == port
        assert "exec" in box["readinessProbe"]
        assert box["livenessProbe"]["tcpSocket"]["port"] == component
    assert container(deployments(base)["postgres"])["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert container(deployments(base)["redis"])["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]


def test_database_and_media_are_persistent_and_media_is_shared(base) -> None:
    claims = {o["metadata"]["name"] for o in base if o["kind"] == "PersistentVolumeClaim"}
    assert claims == {"postgres-data", "funkwhale-data"}

    def mounts(component: str) -> dict[str, tuple[str, bool]]:
        deployment = deployments(base)[component]
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        return {
            volumes[m["name"]]["persistentVolumeClaim"]["claimName"]: (
                m["mountPath"],
                m.get("readOnly", False),
            )
            for m in container(deployment).get("volumeMounts", [])
            if "persistentVolumeClaim" in volumes[m["name"]]
        }

    assert mounts("postgres") == {"postgres-data": ("/var/lib/postgresql/data", False)}
    assert mounts("api") == {"funkwhale-data": ("/srv/funkwhale/data", False)}
    assert mounts("celery-worker") == {"funkwhale-data": ("/srv/funkwhale/data", False)}
    assert mounts("nginx") == {"funkwhale-data": ("/srv/funkwhale/data", True)}
    media_root = find_generated(base, "ConfigMap", "funkwhale-env")["data"]["MEDIA_ROOT"]
    assert media_root.startswith("/srv/funkwhale/data/")


@pytest.mark.parametrize("component", ["celery-worker", "nginx"])
def test_media_sharers_follow_the_api_pod_onto_its_node(base, component: str) -> None:
    """The media claim is ReadWriteOnce: only pods on one node may mount it together."""
    affinity = deployments(base)[component]["spec"]["template"]["spec"]["affinity"]["podAffinity"]
    term = affinity["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert term["topologyKey"] == "kubernetes.io/hostname"


def test_services_expose_the_component_ports(base) -> None:
    ports = {o["metadata"]["name"]: [(p["name"], p["port"]) for p in o["spec"].get("ports", [])]
             for o in base if o["kind"] == "Service"}
    assert ports["postgres"] == [("postgres", 5432)]
    assert ports["redis"] == [("redis", 6379)]
    assert ports["api"] == [("http", 5000)]
    assert ports["nginx"] == [("http", 80)]
    for headless in ("celery-worker", "celery-beat"):
        assert ports[headless] == []
        assert find(base, "Service", headless)["spec"]["clusterIP"] == "None"


def test_the_only_way_in_is_a_traefik_ingress_to_nginx_port_80(base) -> None:
    ingresses = [o for o in base if o["kind"] == "Ingress"]
    assert len(ingresses) == 1
    spec = ingresses[0]["spec"]
    assert spec["ingressClassName"] == "traefik"
    hostname = find_generated(base, "ConfigMap", "funkwhale-env")["data"]["FUNKWHALE_HOSTNAME"]
    (rule,) = spec["rules"]
    assert rule["host"] == hostname
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    service = find(base, "Service", backend["name"])
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "nginx"
    port = next(p for p in service["spec"]["ports"] if p["name"] == backend["port"]["name"])
    assert port["port"] == 80
    assert all(o["spec"].get("type", "ClusterIP") == "ClusterIP" for o in base if o["kind"] == "Service")


def test_nginx_renders_its_template_from_the_configmap(base) -> None:
    nginx = deployments(base)["nginx"]
    box = container(nginx)
    volumes = {v["name"]: v for v in nginx["spec"]["template"]["spec"]["volumes"]}
    mount = next(m for m in box["volumeMounts"] if m["mountPath"] == "/etc/nginx/templates")
    templates = find_generated(base, "ConfigMap", "nginx-templates")
    assert volumes[mount["name"]]["configMap"]["name"] == templates["metadata"]["name"]
    assert list(templates["data"]) == ["default.conf.template"]
    env = env_of(box)
    assert (env["FUNKWHALE_API_HOST"]["value"], env["FUNKWHALE_API_PORT"]["value"]) == ("api", "5000")
    text = templates["data"]["default.conf.template"]
    assert "client_max_body_size ${NGINX_MAX_BODY_SIZE};" in text
    assert "location ~ /_protected/media/(.+) {\n        internal;" in text


def test_no_pod_gets_service_link_variables(base) -> None:
    """Service links would add REDIS_PORT=tcp://... style variables next to Funkwhale's own."""
    for deployment in deployments(base).values():
        assert deployment["spec"]["template"]["spec"]["enableServiceLinks"] is False

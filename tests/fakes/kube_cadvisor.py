"""The kubelet's ``/metrics/cadvisor`` body for the fake's node proxy (Prometheus text 0.0.4)."""

from __future__ import annotations

from tests.fakes.kube_objects import FakePod

_FAMILIES = (  # (series, type, help, CadvisorCounters attribute)
    ("container_cpu_cfs_periods_total", "counter",
     "Number of elapsed enforcement period intervals.", "cfs_periods"),
    ("container_cpu_cfs_throttled_periods_total", "counter",
     "Number of throttled period intervals.", "cfs_throttled_periods"),
    ("container_cpu_cfs_throttled_seconds_total", "counter",
     "Total time duration the container has been throttled.", "cfs_throttled_seconds"),
    ("container_cpu_usage_seconds_total", "counter",
     "Cumulative cpu time consumed in seconds.", "cpu_usage_seconds"),
    ("container_memory_rss", "gauge", "Size of RSS in bytes.", "rss_bytes"),
    ("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", "working_set_bytes"),
    ("container_memory_max_usage_bytes", "gauge",
     "Maximum memory usage recorded in bytes", "max_usage_bytes"),
    ("container_oom_events_total", "counter",
     "Count of out of memory events observed for the container", "oom_events"),
)
_STAMP = 1732097000000


def _series(metric: str, value: float, *, container: str, cgroup: str, image: str = "", name: str = "",
            namespace: str = "", pod: str = "") -> str:
    labels = {"container": container, "id": cgroup, "image": image, "name": name,
              "namespace": namespace, "pod": pod}
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" + f" {value} {_STAMP}"


def cadvisor_text(pods: list[FakePod]) -> str:
    """The kubelet's ``/metrics/cadvisor`` body for these pods, in Prometheus text format 0.0.4.

    Like the real one it also has the root cgroup (``id="/"``), pod-level series
    (``container=""``) and the pause container (``container="POD"``), which readers must skip.
    """
    lines = ["# HELP cadvisor_version_info A metric with a constant '1' value labeled by kernel version.",
             "# TYPE cadvisor_version_info gauge",
             'cadvisor_version_info{cadvisorRevision="",cadvisorVersion="",dockerVersion="",'
             'kernelVersion="6.18.44",osVersion="Debian GNU/Linux 13 (trixie)"} 1']
    for metric, kind, help_text, attr in _FAMILIES:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        lines.append(_series(metric, 0, container="", cgroup="/"))
        for pod in sorted(pods, key=lambda p: p.name):
            where = {"namespace": pod.namespace, "pod": pod.name}
            pod_cgroup = f"/kubepods/burstable/pod{pod.uid}"
            total = sum(getattr(c.cadvisor, attr) for c in pod.containers if c.running)
            lines.append(_series(metric, total, container="", cgroup=pod_cgroup, **where))
            lines.append(_series(metric, 0, container="POD", cgroup=pod_cgroup + "/pause",
                                 image="registry.k8s.io/pause:3.10", name="pause", **where))
            for box in pod.containers:
                if box.running:
                    cid = box.container_id.split("//")[-1]
                    lines.append(_series(metric, getattr(box.cadvisor, attr), container=box.name,
                                         cgroup=f"{pod_cgroup}/{cid}", image="docker.io/" + box.image,
                                         name=cid, **where))
    lines += ["# HELP machine_cpu_cores Number of logical CPU cores.", "# TYPE machine_cpu_cores gauge",
              'machine_cpu_cores{boot_id="b",machine_id="m",system_uuid="s"} 2']
    return "\n".join(lines) + "\n"

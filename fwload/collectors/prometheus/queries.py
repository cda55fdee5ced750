"""The series fwload reads from Prometheus: one PromQL query per metric, for the whole namespace.

Every query aggregates ``by`` the labels it needs (pod, container, and resource/unit/reason
where they matter) with ``max``: a series scraped twice (two jobs, or a kubelet scraped both
directly and through the API server proxy) counts once, and the ``instance``/``job`` labels
of the scrape target fall away. cAdvisor's
pod-level and pause-container series (``container=""`` and ``container="POD"``) are left out
in the selector, as kubectl top and KRR do.

Range functions and windows, after the Prometheus documentation (see `timing`):
- CPU: ``rate(container_cpu_usage_seconds_total[rate window])``, x 1000 -> millicores.
- Memory gauges: the plain instant selector (Prometheus' lookback delta, 5 m by default,
  finds the latest sample at each step) when the step is no longer than the scrape interval;
  beyond it, ``max_over_time(...[step])`` so the peak between two steps is kept (what
  right-sizing needs over days of history at a coarse step).
- Counters (OOM events, CFS periods, restarts) and kube-state-metrics gauges: the instant
  selector; increases and resets are worked out by the collector, as for the other backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CADVISOR = "cAdvisor"
KSM = "kube-state-metrics"
EXPORTERS = {
    CADVISOR: "the kubelets' /metrics/cadvisor endpoint, which kube-prometheus-stack scrapes in its kubelet job "
              "and the Prometheus Helm chart in kubernetes-nodes-cadvisor",
    KSM: "kube-state-metrics (https://github.com/kubernetes/kube-state-metrics), which kube-prometheus-stack "
         "installs and scrapes",
}
"""Who exports what, and where it comes from, for the "missing metric" notices."""

CONTAINERS_ONLY = 'container!="",container!="POD"'
INSTANCE = ("pod", "container", "id")
"""Raw counters keep cAdvisor's ``id`` (the container's cgroup): it changes when the container
restarts, so each instance's counter is followed on its own, as the Kubernetes backend does.
Without staleness markers (a restarted Prometheus, backfilled blocks) the old instance's last
value stays visible for the lookback delta; followed on its own, it adds nothing."""
POD_LABELS = ("label_app_kubernetes_io_component", "label_app_kubernetes_io_name", "label_app",
              "label_pod_template_hash")
"""`fwload.collectors.components.COMPONENT_LABELS` as kube-state-metrics names them (``label_`` +
the label with every character that is not a letter, digit or ``_`` replaced by ``_``)."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One series family fwload reads, and what its absence costs."""

    key: str
    """Short name used in the collector (``cpu``, ``working_set``...)."""
    name: str
    exporter: str
    shape: str
    """rate | gauge | counter | state (kube-state-metrics gauges read as they are)."""
    by: tuple[str, ...]
    gives: str
    """What is lost when the metric is absent, for the notice."""
    always: bool = True
    """Exported whenever its exporter runs; False for series that exist only sometimes
    (a last termination, a CPU limit), whose absence says nothing."""
    where: str = ""
    """Extra label matchers."""
    keep: str = ""
    """A comparison filter applied after aggregation (``== 1`` for one-hot state series)."""


METRICS: tuple[Metric, ...] = (
    Metric("cpu", "container_cpu_usage_seconds_total", CADVISOR, "rate", ("pod", "container"),
           "CPU usage (cpu_m)"),
    Metric("working_set", "container_memory_working_set_bytes", CADVISOR, "gauge", ("pod", "container"),
           "memory usage compared with the limit (memory_bytes)"),
    Metric("rss", "container_memory_rss", CADVISOR, "gauge", ("pod", "container"),
           "anonymous memory (memory_anon_bytes)"),
    Metric("oom_events", "container_oom_events_total", CADVISOR, "counter", INSTANCE,
           "OOM kills of worker processes under a surviving main process"),
    Metric("throttled_periods", "container_cpu_cfs_throttled_periods_total", CADVISOR, "counter",
           INSTANCE, "CPU throttling", always=False),
    Metric("periods", "container_cpu_cfs_periods_total", CADVISOR, "counter", INSTANCE,
           "CPU throttling", always=False),
    Metric("throttled_seconds", "container_cpu_cfs_throttled_seconds_total", CADVISOR, "counter",
           INSTANCE, "CPU throttling time", always=False),
    Metric("requests", "kube_pod_container_resource_requests", KSM, "state",
           ("pod", "container", "resource", "unit"), "the live requests", where='resource=~"cpu|memory"'),
    Metric("limits", "kube_pod_container_resource_limits", KSM, "state",
           ("pod", "container", "resource", "unit"), "the live limits", always=False,
           where='resource=~"cpu|memory"'),
    Metric("restarts", "kube_pod_container_status_restarts_total", KSM, "state", ("pod", "container"),
           "container restarts"),
    Metric("last_terminated", "kube_pod_container_status_last_terminated_reason", KSM, "state",
           ("pod", "container", "reason"), "OOMKilled terminations", always=False, keep=" > 0"),
    Metric("ready", "kube_pod_container_status_ready", KSM, "state", ("pod", "container"),
           "container readiness"),
    Metric("phase", "kube_pod_status_phase", KSM, "state", ("pod", "phase"), "pod phase", keep=" > 0"),
    Metric("labels", "kube_pod_labels", KSM, "state", ("pod", *POD_LABELS),
           "the pods' component labels"),
    Metric("info", "kube_pod_info", KSM, "state", ("pod", "node", "created_by_kind", "created_by_name"),
           "the pods' nodes and owners"),
)
BY_KEY = {metric.key: metric for metric in METRICS}
HISTORY_KEYS = ("cpu", "working_set")
"""What right-sizing needs from a long history: usage only."""

_LABEL_VALUE = re.compile(r'[\\"]')


def selector(metric: Metric, namespace: str) -> str:
    """``name{namespace="ns",...}`` with the container filter for cAdvisor series."""
    matchers = [f'namespace="{quote(namespace)}"']
    if metric.exporter == CADVISOR:
        matchers.append(CONTAINERS_ONLY)
    if metric.where:
        matchers.append(metric.where)
    return f"{metric.name}{{{','.join(matchers)}}}"


def quote(value: str) -> str:
    """A label value inside double quotes in PromQL (backslash and quote escaped)."""
    return _LABEL_VALUE.sub(r"\\\g<0>", value)


def promql(metric: Metric, namespace: str, *, rate_window_s: float, gauge_window_s: float | None) -> str:
    """The one query for ``metric`` over the namespace (``gauge_window_s``: see the module docstring)."""
    inner = selector(metric, namespace)
    if metric.shape == "rate":
        inner = f"rate({inner}[{duration(rate_window_s)}])"
    elif metric.shape == "gauge" and gauge_window_s:
        inner = f"max_over_time({inner}[{duration(gauge_window_s)}])"
    return f"max by ({', '.join(metric.by)}) ({inner}){metric.keep}"


def names_match(metrics: tuple[Metric, ...] = METRICS) -> str:
    """One selector matching every metric name, for the label-values presence check."""
    return '{__name__=~"' + "|".join(re.escape(metric.name) for metric in metrics) + '"}'


def duration(seconds: float) -> str:
    """A PromQL duration: whole milliseconds, written in the largest exact unit."""
    millis = max(int(round(seconds * 1000)), 1)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def missing_notices(present: set[str], namespace: str) -> list[str]:
    """One notice per exporter naming each metric it should have exported and did not."""
    notices = []
    for exporter, where in EXPORTERS.items():
        mine = [metric for metric in METRICS if metric.exporter == exporter]
        if not any(metric.name in present for metric in mine):
            gives = ", ".join(dict.fromkeys(metric.gives for metric in mine))
            notices.append(f"Prometheus holds no {exporter} series at all ({', '.join(m.name for m in mine)}), "
                           f"so {gives} will not be recorded: {exporter} series come from {where}.")
            continue
        for metric in mine:
            if metric.always and metric.name not in present:
                notices.append(f"Prometheus has no {metric.name}, so {metric.gives} will not be recorded for "
                               f"namespace {namespace}: it is exported by {exporter}, from {where} "
                               "(a metric_relabel_configs rule may drop it).")
    return notices

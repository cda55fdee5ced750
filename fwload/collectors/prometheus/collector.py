"""The Prometheus backend: cAdvisor and kube-state-metrics series of a namespace, by range query.

Per interval it sends exactly one ``query_range`` per metric of `queries.METRICS` for the
whole namespace (never one per pod), over the evaluation times since the last collection,
one step apart; the same assembler turns the answers into samples and events as a run goes
(`collect`) or for a whole finished run at once (`collect_window`, for ``fwload report
--collect-from prometheus``). `collect_history` fetches days of CPU and memory at a coarser
step for right-sizing. A failed query mid-run is a ``gap`` event; only the pre-flight
check and the after-the-fact calls raise.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr

from fwload.collectors.base import Collection, Collector, CollectorEvent, ComponentHealth
from fwload.collectors.prometheus import queries
from fwload.collectors.prometheus.api import PrometheusAPI, PrometheusError, Series, safe_url
from fwload.collectors.prometheus.assemble import SOURCE, Assembler, usage_rows
from fwload.collectors.prometheus.problems import TOKEN_OPTIONS, URL_OPTIONS, describe, preflight_error
from fwload.collectors.prometheus.timing import (
    DEFAULT_SCRAPE_INTERVAL_S,
    LOOKBACK_DELTA_S,
    Timing,
    history_step,
    scrape_interval,
)
from fwload.errors import FwloadError, UsageError

log = logging.getLogger(__name__)

CHECK_WINDOW_S = 3600.0
"""How far back the pre-flight check of a live run looks for the metrics' names."""
MAX_CATCH_UP_STEPS = 100
"""After an outage, a live collection fetches at most this many missed steps."""
HEALTH_METRICS = ("kube_pod_container_status_ready", "kube_pod_container_status_running",
                  "kube_pod_container_status_waiting_reason", "kube_pod_container_status_last_terminated_reason",
                  "kube_pod_container_status_restarts_total", "kube_pod_status_phase", "kube_pod_labels",
                  "kube_pod_info")


def read_token(bearer_token_file: str | Path | None, bearer_token_env: str | None) -> tuple[SecretStr | None, str | None]:
    """The bearer token and where it came from (``file …`` / ``environment variable …``, never the token)."""
    if bearer_token_file and bearer_token_env:
        raise UsageError("both a Prometheus token file and a token environment variable were given",
                         "pass one of them")
    if bearer_token_file:
        path = Path(bearer_token_file).expanduser()
        if not path.is_file():
            raise UsageError(f"the Prometheus bearer token file {path} does not exist",
                             f"pass the file that holds the token ({TOKEN_OPTIONS})")
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            why = getattr(error, "strerror", None) or "not text"
            raise UsageError(f"cannot read the Prometheus bearer token file {path}: {why}",
                             "make it readable by the user running fwload") from None
        if not text:
            raise UsageError(f"the Prometheus bearer token file {path} is empty", "write the token into it")
        return SecretStr(text), f"file {path}"
    if bearer_token_env:
        value = os.environ.get(bearer_token_env, "").strip()
        if not value:
            raise UsageError(f"the environment variable {bearer_token_env} (the Prometheus bearer token) "
                             "is not set or empty",
                             f"export {bearer_token_env}=<token> before running fwload (in CI: a masked secret)")
        return SecretStr(value), f"environment variable {bearer_token_env}"
    return None, None


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{safe_url(url)!r} is not an http:// or https:// URL of Prometheus",
                         f"pass one in {URL_OPTIONS}, e.g. http://prometheus.monitoring:9090")
    if parts.username or parts.password:
        raise UsageError("the Prometheus URL holds credentials", f"remove them and pass a bearer token: {TOKEN_OPTIONS}")
    return url.strip().rstrip("/")


class PrometheusCollector(Collector):
    """Samples every container of the namespace from a Prometheus server."""

    name = SOURCE
    default_interval_s = 15.0

    def __init__(
        self,
        url: str | None = None,
        *,
        namespace: str | None = None,
        bearer_token_file: str | Path | None = None,
        bearer_token_env: str | None = None,
        interval_s: float | None = None,
        step_s: float | None = None,
        scrape_interval_s: float | None = None,
        rate_window_s: float | None = None,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ):
        if not url:
            raise UsageError("the prometheus collector needs the URL of the Prometheus server",
                             f"pass {URL_OPTIONS}, e.g. http://prometheus.monitoring:9090")
        token, self.token_source = read_token(bearer_token_file, bearer_token_env)
        self.url = _check_url(url)
        self.namespace = namespace or "funkwhale"
        if interval_s is not None:
            self.default_interval_s = interval_s
        self._explicit_scrape = scrape_interval_s
        self.timing = Timing(step_s or self.default_interval_s, scrape_interval_s or DEFAULT_SCRAPE_INTERVAL_S,
                             rate_window_s, measured=False)
        self.api = PrometheusAPI(self.url, token=token, timeout_s=timeout_s, session=session)
        self._clock = clock
        self._assembler = Assembler(self.namespace, match_window_s=self.timing.rate_window_s)
        self._last_end: float | None = None
        self._server = ""
        self.notices: list[str] = []

    # -- pre-flight ------------------------------------------------------------------------

    def check_connection(self) -> list[str]:
        """Prometheus answers, with the token, and holds the series; returns what it cannot see."""
        now = self._clock()
        return self.check_window(now - CHECK_WINDOW_S, now)

    def check_window(self, start: float, end: float) -> list[str]:
        """The pre-flight check over the time range the collection will read."""
        try:
            kind, answer = self.api.query("vector(1)", at=end)
        except PrometheusError as error:
            raise preflight_error(error, self.url, self.token_source) from None
        if kind != "vector" or not answer or answer[0].points[0][1] != 1:
            raise FwloadError(f"{safe_url(self.url)} answered the query vector(1) with {kind or 'nothing'}: "
                              "it does not evaluate PromQL like Prometheus",
                              f"pass the URL of a Prometheus server in {URL_OPTIONS}")
        try:
            self._server = str(self.api.buildinfo().get("version", ""))
        except PrometheusError:
            self._server = ""  # compatible servers (Thanos, Mimir, VictoriaMetrics) may lack it
        present = self._present_names(start, end)
        if not present:
            raise FwloadError(
                f"Prometheus at {safe_url(self.url)} holds none of the series fwload reads "
                f"({', '.join(m.name for m in queries.METRICS[:3])}, …) between {_when(start)} and {_when(end)}",
                "point it at the Prometheus that scrapes the cluster's kubelets (cAdvisor) and kube-state-metrics "
                "(kube-prometheus-stack does both), or run fwload with --collector kubernetes",
            )
        notices = queries.missing_notices(present, self.namespace)
        notices += self._namespace_notice(start, end)
        if self._explicit_scrape is None:
            self._measure_scrape_interval(end, present)
        self._assembler = Assembler(self.namespace, match_window_s=self.timing.rate_window_s)
        notices += self._pods_notice(end)
        self.notices = notices
        return notices

    def _present_names(self, start: float, end: float) -> set[str]:
        try:
            names = self.api.label_values("__name__", queries.names_match(), start, end)
        except PrometheusError as error:
            if error.kind != "bad_query":
                raise preflight_error(error, self.url, self.token_source) from None
            return {metric.name for metric in queries.METRICS}  # no match[] on this server: cannot tell
        return set(names) & {metric.name for metric in queries.METRICS}

    def _namespace_notice(self, start: float, end: float) -> list[str]:
        match = '{__name__=~"container_cpu_usage_seconds_total|kube_pod_info"}'
        try:
            namespaces = self.api.label_values("namespace", match, start, end)
        except PrometheusError:
            return []
        if not namespaces or self.namespace in namespaces:
            return []
        shown = ", ".join(sorted(namespaces)[:10]) + (", …" if len(namespaces) > 10 else "")
        return [f"Prometheus has no pod series in namespace {self.namespace} between {_when(start)} and "
                f"{_when(end)} (namespaces it has: {shown}): nothing will be sampled; pass --namespace"]

    def _measure_scrape_interval(self, at: float, present: set[str]) -> None:
        metric = queries.BY_KEY["cpu"] if "container_cpu_usage_seconds_total" in present else queries.BY_KEY["restarts"]
        try:
            _, answer = self.api.query(f"{queries.selector(metric, self.namespace)}[{queries.duration(LOOKBACK_DELTA_S)}]",
                                       at=at)
        except PrometheusError:
            return
        measured = scrape_interval(answer)
        if measured:
            self.timing = Timing(self.timing.step_s, measured, self.timing.explicit_rate_window_s, measured=True)

    def _pods_notice(self, at: float) -> list[str]:
        try:
            _, labels = self.api.query(queries.promql(queries.BY_KEY["labels"], self.namespace,
                                                      rate_window_s=0, gauge_window_s=None), at=at)
            _, info = self.api.query(queries.promql(queries.BY_KEY["info"], self.namespace,
                                                    rate_window_s=0, gauge_window_s=None), at=at)
        except PrometheusError:
            return []
        return self._assembler.learn_pods(labels, info)

    # -- sampling --------------------------------------------------------------------------

    def collect(self, stage: str = "") -> Collection:
        """The evaluation times since the last collection, one query per metric; never raises."""
        ts = self._clock()
        end = self.timing.on_grid(ts)
        step = self.timing.step_s
        start = end if self._last_end is None else max(self._last_end + step, end - MAX_CATCH_UP_STEPS * step)
        if start > end + 1e-6:
            return Collection()
        answers, failures = self._fetch(start, end, self.timing, [m.key for m in queries.METRICS])
        try:
            result = self._assembler.feed(answers, stage)
        except Exception as error:  # noqa: BLE001 - a run never crashes because of its collector
            log.exception("prometheus collector failed to read the answers")
            result = Collection(events=[_gap(ts, f"collector error: {describe(error)}")])
        result.events.extend(_gap(ts, detail) for detail in failures)
        if len(failures) < len(queries.METRICS):
            self._last_end = end  # when every query failed, the next collection catches up
        return result

    def collect_window(self, start: float, end: float, stage: Callable[[float], str] | str = "") -> Collection:
        """Every container from ``start`` to ``end`` (after the fact, once, after `check_window`);
        raises `FwloadError` if a query fails, so that nothing half-collected is written."""
        step = self.timing.step_s
        first = math.ceil(round(start / step, 6)) * step
        answers, failures = self._fetch(first, max(first, self.timing.on_grid(end)), self.timing,
                                        [m.key for m in queries.METRICS], strict=True)
        return self._assembler.feed(answers, stage)

    def collect_history(self, start: float, end: float) -> tuple[list[tuple[object, ...]], Timing]:
        """CPU and memory of every container over a long window at a coarse step, for right-sizing."""
        timing = self.timing.with_step(history_step(end - start, self.timing.step_s))
        first = math.ceil(round(start / timing.step_s, 6)) * timing.step_s
        answers, _ = self._fetch(first, timing.on_grid(end), timing, [*queries.HISTORY_KEYS, "labels", "info"],
                                 strict=True)
        return usage_rows(Assembler(self.namespace, match_window_s=timing.rate_window_s), answers), timing

    def _fetch(self, start: float, end: float, timing: Timing, keys: list[str],
               strict: bool = False) -> tuple[dict[str, list[Series]], list[str]]:
        answers: dict[str, list[Series]] = {}
        failures: list[str] = []
        for key in keys:
            metric = queries.BY_KEY[key]
            text = queries.promql(metric, self.namespace, rate_window_s=timing.rate_window_s,
                                  gauge_window_s=timing.gauge_window_s)
            try:
                answers[key] = self.api.query_range(text, start, end, timing.step_s)
            except PrometheusError as error:
                if strict:
                    raise preflight_error(error, self.url, self.token_source) from None
                failures.append(f"{metric.name}: {describe(error)}")
        return answers, failures

    # -- readiness -------------------------------------------------------------------------

    def health(self) -> list[ComponentHealth]:
        """Per component, from kube-state-metrics (one instant query): alive when a pod has every
        container running, ready when every pod has every container ready. Without
        kube-state-metrics nothing can be said, so nothing holds the gate."""
        match = "{" + f'__name__=~"{"|".join(HEALTH_METRICS)}",namespace="{queries.quote(self.namespace)}"' + "}"
        try:
            _, found = self.api.query(match, at=self._clock())
        except PrometheusError as error:
            return [ComponentHealth(SOURCE, alive=False, ready=False,
                                    detail=f"cannot read kube-state-metrics series: {describe(error)}")]
        return _health(found, self._assembler)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name, "interval_s": self.default_interval_s, "url": safe_url(self.url),
            "namespace": self.namespace, "credentials": self.token_source or "none",
            "server": self._server, **self.timing.describe(), "queries_per_interval": len(queries.METRICS),
        }

    def close(self) -> None:
        self.api.close()


def _gap(ts: float, detail: str) -> CollectorEvent:
    return CollectorEvent(ts, "gap", {"source": SOURCE, "detail": detail})


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _health(found: list[Series], assembler: Assembler) -> list[ComponentHealth]:
    by_name: dict[str, list[Series]] = {}
    for series in found:
        if series.points and series.points[-1][1] > 0:
            by_name.setdefault(series.labels.get("__name__", ""), []).append(series)
    if not by_name:
        return []
    assembler.learn_pods(by_name.get("kube_pod_labels", []), by_name.get("kube_pod_info", []))
    finished = {s.labels.get("pod") for s in by_name.get("kube_pod_status_phase", [])
                if s.labels.get("phase") in ("Succeeded", "Failed")}

    def per_container(name: str, label: str = "") -> dict[tuple[str, str], str]:
        return {(s.labels.get("pod", ""), s.labels.get("container", "")): s.labels.get(label, "1") if label else "1"
                for s in by_name.get(name, []) if s.labels.get("pod") not in finished}

    ready, running = per_container("kube_pod_container_status_ready"), per_container("kube_pod_container_status_running")
    if not any(s.labels.get("__name__") == "kube_pod_container_status_ready" for s in found):
        ready = running  # readiness not exported (dropped by a relabel rule): running is all that can be said
    waiting = per_container("kube_pod_container_status_waiting_reason", "reason")
    last = per_container("kube_pod_container_status_last_terminated_reason", "reason")
    restarts = {(s.labels.get("pod", ""), s.labels.get("container", "")): int(s.points[-1][1])
                for s in found if s.labels.get("__name__") == "kube_pod_container_status_restarts_total"}
    containers = set(ready) | set(running) | set(waiting) | {
        (s.labels.get("pod", ""), s.labels.get("container", "")) for s in found
        if s.labels.get("__name__") == "kube_pod_container_status_ready" and s.labels.get("pod") not in finished}
    pods: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for pod, container in sorted(containers):
        pods.setdefault(assembler.component(pod).component, {}).setdefault(pod, []).append((pod, container))
    health = []
    for component, members in sorted(pods.items()):
        alive = any(all(key in running for key in keys) for keys in members.values())
        all_ready = all(all(key in ready for key in keys) for keys in members.values())
        problems = []
        for keys in members.values():
            for key in keys:
                if key not in ready:
                    why = waiting.get(key) or ("running, not ready" if key in running else "not running")
                    past = f", last terminated {last[key]}" if key in last else ""
                    problems.append(f"{key[0]}/{key[1]}: {why}{past}, {restarts.get(key, 0)} restarts")
        ready_pods = sum(all(key in ready for key in keys) for keys in members.values())
        detail = f"{ready_pods}/{len(members)} pods ready" + (": " + "; ".join(problems) if problems else "")
        health.append(ComponentHealth(component, alive=alive, ready=all_ready, detail=detail))
    return health

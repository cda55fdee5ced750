"""The Prometheus HTTP API (``/api/v1``), the one place in fwload that speaks it.

Only the calls the collector needs: ``query`` (instant), ``query_range``, label values and
the build info. Range queries are POSTed form-encoded (long selectors do not fit in a URL)
and split into pieces of at most `MAX_POINTS` points per series, under Prometheus' limit of
11,000. The bearer token is held as a `SecretStr` and only ever put in the request header;
nothing here formats a header, the token or the token's value into a message.
Every call is counted by endpoint (`calls`), so tests and benchmarks can check the
"one query per metric per interval" rule against what was really sent.

Reference: https://prometheus.io/docs/prometheus/latest/querying/api/
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import SecretStr

MAX_POINTS = 10_000
"""Points per series in one range query; Prometheus refuses more than 11,000."""


class PrometheusError(Exception):
    """A call that got no usable answer: ``kind`` is one of unreachable, timeout, auth,
    not_found, bad_query, server, not_prometheus."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Series:
    """One series of an answer: its labels and its ``(ts, value)`` points in time order."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


def safe_url(url: str) -> str:
    """The URL without any user:password part, fit for run.json and messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class PrometheusAPI:
    """A small client over one `requests.Session` (keep-alive across the interval's queries)."""

    def __init__(self, url: str, *, token: SecretStr | None = None, timeout_s: float = 30.0,
                 session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = (min(3.05, timeout_s), timeout_s)
        self._session = session or requests.Session()
        self.calls: Counter[str] = Counter()

    # -- endpoints -------------------------------------------------------------------------

    def buildinfo(self) -> dict[str, Any]:
        """``/api/v1/status/buildinfo`` (Prometheus >= 2.14; compatible servers may lack it)."""
        return self._call("GET", "/api/v1/status/buildinfo", {})

    def query(self, promql: str, at: float | None = None) -> tuple[str, list[Series]]:
        """An instant query: ``(resultType, series)``; a vector's series hold one point each."""
        form: dict[str, Any] = {"query": promql}
        if at is not None:
            form["time"] = _ts(at)
        data = self._call("POST", "/api/v1/query", form)
        kind = data.get("resultType", "")
        if kind == "scalar":
            return kind, [Series({}, [_point(data.get("result"))])]
        return kind, _series(data.get("result") or [])

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> list[Series]:
        """``query_range`` from ``start`` to ``end`` (both evaluated) every ``step_s``, in pieces
        of at most `MAX_POINTS` points; the pieces' series are joined by their labels."""
        piece = step_s * (MAX_POINTS - 1)
        if end - start <= piece:
            form = {"query": promql, "start": _ts(start), "end": _ts(end), "step": _ts(step_s)}
            return _series(self._call("POST", "/api/v1/query_range", form).get("result") or [])
        merged: dict[tuple[tuple[str, str], ...], Series] = {}
        begin = start
        while begin <= end:
            stop = min(end, begin + piece)
            form = {"query": promql, "start": _ts(begin), "end": _ts(stop), "step": _ts(step_s)}
            for series in _series(self._call("POST", "/api/v1/query_range", form).get("result") or []):
                key = tuple(sorted(series.labels.items()))
                if key in merged:
                    merged[key].points.extend(series.points)
                else:
                    merged[key] = series
            begin = stop + step_s
        return list(merged.values())

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        """Values of ``label`` over the series ``match`` selects between ``start`` and ``end``."""
        params = {"match[]": match, "start": _ts(start), "end": _ts(end)}
        data = self._call("GET", f"/api/v1/label/{label}/values", params)
        return [str(value) for value in data] if isinstance(data, list) else []

    def close(self) -> None:
        self._session.close()

    # -- transport -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = "Bearer " + self._token.get_secret_value()
        return headers

    def _call(self, method: str, path: str, fields: dict[str, Any]) -> Any:
        self.calls[path if not path.startswith("/api/v1/label/") else "/api/v1/label/values"] += 1
        where = safe_url(self.url) + path
        try:
            if method == "POST":
                response = self._session.post(self.url + path, data=fields, headers=self._headers(),
                                              timeout=self._timeout, allow_redirects=False)
            else:
                response = self._session.get(self.url + path, params=fields, headers=self._headers(),
                                             timeout=self._timeout, allow_redirects=False)
        except requests.Timeout:
            raise PrometheusError("timeout", f"{where} did not answer within {self._timeout[1]:g} s") from None
        except requests.ConnectionError as error:
            raise PrometheusError("unreachable", f"cannot connect to {safe_url(self.url)}: {_reason(error)}") from None
        except requests.RequestException as error:
            raise PrometheusError("unreachable", f"{where}: {type(error).__name__}") from None
        return _answer(response, where)


def _answer(response: requests.Response, where: str) -> Any:
    status = response.status_code
    if status in (401, 403):
        raise PrometheusError("auth", f"{where} answered {status} {response.reason}", status)
    if 300 <= status < 400:
        target = safe_url(response.headers.get("Location", ""))
        raise PrometheusError("not_prometheus", f"{where} redirects ({status}) to {target or '?'}", status)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        kind = "not_found" if status == 404 else "not_prometheus" if status < 500 else "server"
        shown = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise PrometheusError(kind, f"{where} answered {status} with {shown}, not a Prometheus API answer", status)
    if body["status"] == "error":
        text = " ".join(str(body.get("error", "")).split())[:300]
        kind = "bad_query" if status in (400, 422) else "server"
        raise PrometheusError(kind, f"{where} answered {status}: {body.get('errorType', 'error')}: {text}", status)
    return body.get("data")


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split()).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return "host name not resolved"
    if "ssl" in text or "certificate" in text:
        return "TLS error (check the certificate)"
    return type(error).__name__


def _ts(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _point(pair: Any) -> tuple[float, float]:
    ts, value = pair
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    return float(ts), number


def _series(result: list[dict[str, Any]]) -> list[Series]:
    found = []
    for item in result:
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        if "values" in item:
            points = [_point(pair) for pair in item["values"]]
        elif "value" in item:
            points = [_point(item["value"])]
        else:
            points = []
        found.append(Series(labels, points))
    return found

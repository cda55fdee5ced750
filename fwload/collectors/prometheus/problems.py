"""What went wrong talking to Prometheus, as one error naming the problem and the fix.

The token source (``file /run/secrets/prom-token`` or ``environment variable PROM_TOKEN``)
may be named; the token never is (`PrometheusAPI` never puts it in a message).
"""

from __future__ import annotations

from fwload.collectors.prometheus.api import PrometheusError, safe_url
from fwload.errors import FwloadError, TargetError, UsageError

URL_OPTIONS = "--prometheus-url (or collector.prometheus.url)"
TOKEN_OPTIONS = ("--prometheus-token-file FILE or --prometheus-token-env VARIABLE "
                 "(or collector.prometheus.bearer_token_file / bearer_token_env)")


def preflight_error(error: PrometheusError, url: str, token_source: str | None) -> FwloadError:
    """The pre-flight failure as a `FwloadError` (exit 2) a user can act on."""
    where = safe_url(url)
    if error.kind in ("unreachable", "timeout"):
        return TargetError(
            f"cannot reach Prometheus: {error.message}",
            f"check {URL_OPTIONS} and that Prometheus answers there (curl {where}/-/healthy); from outside "
            "the cluster, port-forward it first, e.g. kubectl -n monitoring port-forward svc/prometheus-operated 9090",
        )
    if error.kind == "auth":
        if token_source:
            return TargetError(
                f"Prometheus at {where} refused the bearer token from {token_source} "
                f"({error.status} {'Unauthorized' if error.status == 401 else 'Forbidden'})",
                f"put a valid token in {token_source} (it may have expired, or lack the right to read "
                "the Prometheus API); the same token must work with: curl -H 'Authorization: Bearer …' "
                f"{where}/api/v1/query?query=up",
            )
        return TargetError(f"Prometheus at {where} asks for credentials ({error.status})",
                           f"pass a bearer token: {TOKEN_OPTIONS}")
    if error.kind in ("not_found", "not_prometheus"):
        return UsageError(
            f"{where} is not a Prometheus HTTP API: {error.message}",
            f"pass the base URL in {URL_OPTIONS}: the part before /api/v1, e.g. http://prometheus.monitoring:9090 "
            "(or https://host/prometheus when it is served under a path prefix)",
        )
    if error.kind == "bad_query":
        return FwloadError(f"Prometheus at {where} rejected fwload's query: {error.message}",
                           f"report this with the server's version ({where}/api/v1/status/buildinfo)")
    return TargetError(f"Prometheus at {where} failed to answer: {error.message}",
                       f"retry; if it persists, check the server's health ({where}/-/ready)")


def describe(error: BaseException) -> str:
    """One line for a ``gap`` event."""
    if isinstance(error, PrometheusError):
        return error.message
    return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"

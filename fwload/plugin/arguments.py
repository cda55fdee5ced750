"""fwload's custom Locust arguments (they also show in the web UI unless marked otherwise)."""

from __future__ import annotations

from typing import Any

from fwload.collectors import available_backends


class _Group:
    """An argument group whose options keep Locust's web UI attributes (groups drop them)."""

    def __init__(self, group: Any):
        self._group = group

    def add_argument(self, *args: Any, include_in_web_ui: bool = True, is_secret: bool = False,
                     **kwargs: Any) -> Any:
        action = self._group.add_argument(*args, **kwargs)
        action.include_in_web_ui = include_in_web_ui
        action.is_secret = is_secret
        action.is_required = False
        action.is_multiple = False
        return action


def add_arguments(parser: Any, **_kwargs: Any) -> None:
    group = _Group(parser.add_argument_group(
        "fwload",
        "Funkwhale scenarios, recording and resource collection. The run directory gets every "
        "measurement; the exit code says whether the scenario's SLOs held.",
    ))
    group.add_argument("--scenario", type=str, default="", env_var="FWLOAD_SCENARIO",
                       help="Scenario file (scenarios/*.yaml): user mix, load profile, SLOs, abort rules")
    group.add_argument("--users-file", type=str, default="", env_var="FWLOAD_USERS_FILE",
                       help="Accounts to log in with (YAML users: [{username, password}] or CSV); "
                       "without it, accounts are registered (needs open registration)")
    group.add_argument("--auth-mode", choices=["", "token", "session", "basic"], default="",
                       env_var="FWLOAD_AUTH_MODE",
                       help="token: one app token per account (default); session: form login with CSRF; "
                       "basic: HTTP Basic on every request")
    group.add_argument("--reports-dir", type=str, default="reports", env_var="FWLOAD_REPORTS_DIR",
                       help="Folder where a new run directory is created for each test")
    group.add_argument("--run-dir", type=str, default="", env_var="FWLOAD_RUN_DIR", include_in_web_ui=False,
                       help="Write into this existing run directory (set by `fwload run`)")
    group.add_argument("--fixtures-dir", type=str, default="fixtures/audio", env_var="FWLOAD_FIXTURES_DIR",
                       help="Audio fixtures for uploaders (generated when missing)")
    group.add_argument("--collector", choices=["", *available_backends(), "none"], default="",
                       env_var="FWLOAD_COLLECTOR", help="Resource collector backend (default: the scenario's)")
    group.add_argument("--namespace", type=str, default="", env_var="FWLOAD_NAMESPACE",
                       help="Kubernetes namespace of the target (default: the scenario's, else funkwhale)")
    group.add_argument("--kube-context", "--context", type=str, default="", env_var="FWLOAD_KUBE_CONTEXT",
                       help="kubeconfig context to use (--context, as fwload run spells it, works too)")
    group.add_argument("--kubeconfig", type=str, default="", env_var="FWLOAD_KUBECONFIG", include_in_web_ui=False,
                       help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
    group.add_argument("--prometheus-url", type=str, default="", env_var="FWLOAD_PROMETHEUS_URL",
                       help="Prometheus base URL for --collector prometheus (default: the scenario's)")
    group.add_argument("--prometheus-token-file", type=str, default="", env_var="FWLOAD_PROMETHEUS_TOKEN_FILE",
                       include_in_web_ui=False, help="File holding the Prometheus bearer token")
    group.add_argument("--prometheus-token-env", type=str, default="", env_var="FWLOAD_PROMETHEUS_TOKEN_ENV",
                       include_in_web_ui=False, help="Name of the environment variable holding the Prometheus bearer token")
    group.add_argument("--local-pids", type=str, default="", env_var="FWLOAD_LOCAL_PIDS", include_in_web_ui=False,
                       help="component=pid[,component=pid...] of a local target, for the processes collector")
    group.add_argument("--local-cgroups", type=str, default="", env_var="FWLOAD_LOCAL_CGROUPS",
                       include_in_web_ui=False,
                       help="component=cgroup-path[,...] of a confined local target, for the processes collector")
    group.add_argument("--no-report", action="store_true", default=False, include_in_web_ui=False,
                       help="Do not analyse the run when it stops (`fwload run` does it afterwards)")
    group.add_argument("--skip-preflight", action="store_true", default=False, include_in_web_ui=False,
                       help="Do not check the target before the load (`fwload run` already did)")

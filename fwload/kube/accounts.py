"""Load-test accounts made with Funkwhale's own CLI inside the api pod (no signup throttle).

Real Funkwhale documents ``funkwhale-manage fw users create --username U --email E
[-p PASSWORD | env FUNKWHALE_CLI_USER_PASSWORD]`` (funkwhale-api.md §1.8). One exec runs a
small shell loop that reads ``username password`` lines from stdin and gives each password
to the CLI through that environment variable: passwords never appear in the exec URL,
which the API server may log. Each Django start costs ~100 MB in the api container, so the
accounts are made one after another, and a kill (exit 137) is reported as such.
"""

from __future__ import annotations

from typing import Any

from fwload.errors import TargetError
from fwload.kube.client import call_api
from fwload.kube.exec import exec_in_pod
from fwload.limits import COMPONENT_LABEL

CREATED_MARK = "fwload-created"
END_OF_INPUT = "."
EMAIL_DOMAIN = "fwload.invalid"

CREATE_SCRIPT = f"""\
while read -r username password; do
  [ "$username" = "{END_OF_INPUT}" ] && exit 0
  FUNKWHALE_CLI_USER_PASSWORD="$password" funkwhale-manage fw users create \\
    --username "$username" --email "$username@{EMAIL_DOMAIN}" </dev/null >&2 || exit $?
  echo "{CREATED_MARK} $username"
done
"""
"""stdin: one ``username password`` line per account, then ``.`` (v4 exec cannot close stdin)."""


class ProvisioningStopped(TargetError):
    """Account creation stopped part-way; ``created`` lists the usernames that exist."""

    def __init__(self, problem: str, fix: str, created: list[str]):
        super().__init__(problem, fix)
        self.created = created


def find_api_pod(api_client: Any, namespace: str) -> tuple[str, str]:
    """``(pod, container)`` of a running api pod, ready ones first."""
    from kubernetes import client

    selector = f"{COMPONENT_LABEL}=api"
    pods = call_api(api_client, namespace, f"listing api pods in namespace {namespace}",
                    client.CoreV1Api(api_client).list_namespaced_pod, namespace,
                    label_selector=selector).items
    running = [p for p in pods
               if p.status and p.status.phase == "Running" and not p.metadata.deletion_timestamp]
    running.sort(key=lambda p: not all(s.ready for s in (p.status.container_statuses or [])))
    if not running:
        raise TargetError(f"no running api pod in namespace {namespace} (label {selector})",
                          f"check `kubectl -n {namespace} get pods -l {selector}`, or pass --namespace")
    pod = running[0]
    names = [c.name for c in pod.spec.containers]
    return pod.metadata.name, ("api" if "api" in names else names[0])


def create_accounts(api_client: Any, namespace: str, accounts: list[tuple[str, str]],
                    *, seconds_per_account: float = 30.0) -> list[str]:
    """Create ``(username, password)`` accounts; returns the usernames created, in order.

    Raises `ProvisioningStopped` when the loop stops early, so the caller can still record
    the passwords of the accounts that were made.
    """
    pod, container = find_api_pod(api_client, namespace)
    lines = "".join(f"{username} {password}\n" for username, password in accounts) + END_OF_INPUT + "\n"
    outcome = exec_in_pod(api_client, namespace, pod, container, ["sh", "-c", CREATE_SCRIPT], stdin=lines,
                          timeout_s=30.0 + seconds_per_account * len(accounts))
    created = [line.split(" ", 1)[1].strip() for line in outcome.stdout.splitlines()
               if line.startswith(CREATED_MARK + " ")]
    if outcome.exit_code == 0 and len(created) == len(accounts):
        return created
    detail = _redact(outcome.stderr, [password for _, password in accounts])
    if outcome.exit_code == 137:
        problem = (f"funkwhale-manage was killed (exit 137) in pod {pod} after {len(created)} of "
                   f"{len(accounts)} accounts: the api container is likely at its memory limit")
        fix = "provision with --mode registration, or raise the api memory limit while provisioning"
    elif outcome.exit_code == 0:
        problem = (f"the account loop in pod {pod} ended after {len(created)} of {len(accounts)} accounts "
                   "without an error: its input was cut short")
        fix = "retry; if it repeats, provision with --mode registration"
    elif outcome.exit_code is None:
        problem = f"creating accounts in pod {pod} did not finish: {outcome.error}"
        fix = f"look at `kubectl -n {namespace} logs {pod}` and retry with a smaller --count"
    else:
        problem = (f"funkwhale-manage fw users create failed (exit {outcome.exit_code}) in pod {pod} after "
                   f"{len(created)} of {len(accounts)} accounts: {_last_line(detail)}")
        fix = "read the message above (an existing username, a rejected password); retry with a new --prefix"
    raise ProvisioningStopped(problem, fix, created)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"

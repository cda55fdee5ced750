"""Run a command in a pod's container through the API server (``kubectl exec`` without kubectl).

One wrapper, `exec_in_pod`, returns the exit code and both outputs; secrets go in on stdin,
never on the command line, because the command is part of the request URL the API
server may log and audit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fwload.kube.client import api_failure, is_api_error, is_connection_error


@dataclass(frozen=True, slots=True)
class ExecOutcome:
    exit_code: int | None
    """None when the command did not report an exit status (timed out, or a runtime error)."""
    stdout: str
    stderr: str
    error: str = ""


def exec_in_pod(api_client: Any, namespace: str, pod: str, container: str, argv: list[str], *,
                stdin: str | None = None, timeout_s: float = 60.0) -> ExecOutcome:
    """Run ``argv`` in ``pod``/``container``; raises `TargetError` when it cannot start at all."""
    from kubernetes import client
    from kubernetes.stream import stream

    core = client.CoreV1Api(api_client)
    try:
        session = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=argv,
                         container=container, stdin=stdin is not None, stdout=True, stderr=True, tty=False,
                         _preload_content=False)
    except Exception as error:
        if is_connection_error(error) or is_api_error(error):
            raise api_failure(error, f"running a command in pod {pod}", namespace=namespace,
                              api_client=api_client, fix=_exec_fix(namespace)) from None
        raise
    try:
        if stdin is not None:
            session.write_stdin(stdin.encode())  # binary frames: the channel protocol's own
            session.close_channel(0)
        deadline = time.monotonic() + timeout_s
        while session.is_open() and time.monotonic() < deadline:
            session.update(timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
        timed_out = session.is_open()
        stdout, stderr = session.read_stdout(timeout=0) or "", session.read_stderr(timeout=0) or ""
        if timed_out:
            return ExecOutcome(None, stdout, stderr, f"no answer within {timeout_s:.0f} s")
        try:
            return ExecOutcome(session.returncode, stdout, stderr)
        except (KeyError, IndexError, TypeError, ValueError) as error:  # a runtime error, not an exit code
            return ExecOutcome(None, stdout, stderr, str(error) or "the runtime reported an error")
    finally:
        session.close()


def _exec_fix(namespace: str) -> str:
    return (f"exec needs `create` (and before Kubernetes 1.35 `get`) on pods/exec in namespace {namespace}: "
            "ask for it, or provision with --mode registration")

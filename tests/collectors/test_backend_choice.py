"""`choose_backend` says why it chose what it chose: run.json keeps the reason, so a report can
say why resource checks were not evaluated (issue 15)."""

from __future__ import annotations

import pytest

from fwload.collectors.selection import backend_choice, choose_backend


@pytest.fixture
def no_kubernetes(monkeypatch, tmp_path):
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_auto_with_a_remote_host_and_no_kubeconfig_is_none_and_says_why(no_kubernetes):
    choice = backend_choice("auto", local_pids=False)
    assert choice.backend == "none" == choose_backend("auto", local_pids=False)
    assert "fwload did not start the target (--host)" in choice.reason and "kubeconfig" in choice.reason


def test_none_asked_for_says_so(no_kubernetes):
    choice = backend_choice("none", local_pids=True)
    assert choice == ("none", "it was asked for (--collector or the scenario's collector.backend)")


def test_auto_samples_the_processes_fwload_started_and_finds_a_kubeconfig(no_kubernetes, monkeypatch, tmp_path):
    assert backend_choice("auto", local_pids=True).backend == "processes"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    assert backend_choice(None, local_pids=False).backend == "kubernetes"

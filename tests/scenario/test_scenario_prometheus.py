"""``collector.prometheus``: where the server is and where its token comes from, never the token."""

from __future__ import annotations

import pytest

from fwload.errors import UsageError
from fwload.scenario.loader import scenario_from_text

BASE = "name: prom\nusers: [{class: Listener}]\nload: {users: 1, duration: 30s}\n"


def with_collector(collector: str):
    return scenario_from_text(BASE + f"collector: {collector}\n", check_files=False)


def test_a_prometheus_section_reads_with_its_defaults_and_resolves_without_a_token():
    scenario = with_collector("{backend: prometheus, interval: 30s, prometheus: "
                              "{url: 'http://prometheus.monitoring:9090/', bearer_token_env: PROM_TOKEN}}")
    section = scenario.collector.prometheus
    assert (section.url, section.bearer_token_env, section.step, section.rate_window) == (
        "http://prometheus.monitoring:9090", "PROM_TOKEN", None, None)
    assert "bearer_token_env: PROM_TOKEN" in scenario.dump_resolved()


@pytest.mark.parametrize(("collector", "message"), [
    ("{backend: prometheus, prometheus: {url: 'http://p:9090', bearer_token: abc123}}",
     "a token never goes in the scenario"),
    ("{backend: prometheus, prometheus: {url: 'http://p:9090', bearer_token_file: /t, bearer_token_env: T}}",
     "not both"),
    ("{backend: prometheus, prometheus: {url: 'http://user:pw@p:9090'}}", "the URL holds credentials"),
    ("{backend: prometheus, prometheus: {url: 'prometheus:9090'}}", "is not an http:// or https:// URL"),
    ("{backend: prometheus, prometheus: {url: 'http://p:9090', step: 0}}", "greater than 0"),
])
def test_a_bad_prometheus_section_is_one_error_naming_the_field(collector, message):
    with pytest.raises(UsageError) as error:
        with_collector(collector)
    assert message in error.value.problem
    assert "abc123" not in str(error.value) and "pw@" not in str(error.value)

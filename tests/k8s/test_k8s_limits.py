"""fwload.limits is the one source of truth for the documented limits, and it says what the
seed's table says (DESIGN.md §2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fwload.errors import UsageError
from fwload.limits import COMPONENTS, ENV_VAR, ComponentLimits, base_dir, container_limits, documented_limits
from fwload.units import parse_size
from tests.k8s.conftest import K8S, REPO, container

DESIGN = REPO.parent / "shared" / "DESIGN.md"

# A copy of DESIGN.md §2's numbers, used only where shared/ is absent (a fresh clone without
# the design folder beside it). When DESIGN.md is present, the table is parsed from it and
# this copy must equal it too, so the copy cannot silently go stale.
DESIGN_TABLE_COPY = {
    "redis": ("10m", "500m", "32Mi", "128Mi"),
    "postgres": ("20m", "1000m", "64Mi", "256Mi"),
    "api": ("10m", "500m", "32Mi", "128Mi"),
    "celery-beat": ("10m", "500m", "32Mi", "128Mi"),
    "celery-worker": ("10m", "500m", "32Mi", "128Mi"),
    "nginx": ("15m", "750m", "64Mi", "256Mi"),
}
DESIGN_TOTALS_COPY = ("3750m", "1024Mi")


def parse_design_table(text: str) -> tuple[dict[str, tuple[str, ...]], tuple[str, str]]:
    """The "Documented resources" markdown table: rows per component, and the totals row."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if re.match(r"^\|\s*component\s*\|\s*cpu request\s*\|\s*cpu limit\s*\|", line))
    rows, totals = {}, ("", "")
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if cells[0].lower().startswith("total"):
            totals = (cells[2], cells[4])
            continue
        rows[cells[0].split(" ")[0]] = tuple(cells[1:5])
    return rows, totals


def design_table() -> tuple[dict[str, tuple[str, ...]], tuple[str, str]]:
    """DESIGN.md's table when shared/ is beside the repo (it must equal the copy), else the copy."""
    if not DESIGN.is_file():
        return DESIGN_TABLE_COPY, DESIGN_TOTALS_COPY
    parsed = parse_design_table(DESIGN.read_text(encoding="utf-8"))
    assert parsed == (DESIGN_TABLE_COPY, DESIGN_TOTALS_COPY), (
        f"{DESIGN} changed: update k8s/base and DESIGN_TABLE_COPY in this test together")
    return parsed


def as_limits(row: tuple[str, ...]) -> ComponentLimits:
    cpu_request, cpu_limit, memory_request, memory_limit = row
    return ComponentLimits(int(cpu_request.removesuffix("m")), int(cpu_limit.removesuffix("m")),
                           parse_size(memory_request), parse_size(memory_limit))


def test_documented_limits_equal_the_design_table() -> None:
    rows, _ = design_table()
    assert sorted(rows) == sorted(COMPONENTS)
    assert documented_limits() == {name: as_limits(row) for name, row in rows.items()}


def test_design_table_totals_equal_the_sum_of_the_limits() -> None:
    _, (cpu_total, memory_total) = design_table()
    limits = documented_limits().values()
    assert sum(c.cpu_limit_m for c in limits) == int(cpu_total.removesuffix("m")) == 3750
    assert sum(c.memory_limit_bytes for c in limits) == parse_size(memory_total) == 1024 * 2**20


def test_the_design_table_parser_reads_the_documented_layout() -> None:
    """The parser itself, on the table's own markdown (so a silent misparse cannot pass)."""
    text = """x
| component | cpu request | cpu limit | memory request | memory limit |
|---|---|---|---|---|
| api (Django) | 10m | 500m | 32Mi | 128Mi |
| **total limits** | | **500m** | | **128Mi** |

after
"""
    assert parse_design_table(text) == ({"api": ("10m", "500m", "32Mi", "128Mi")}, ("500m", "128Mi"))


def test_documented_limits_are_what_kustomize_renders(base) -> None:
    """limits.py reads the raw files; a patch in k8s/base could make them differ from what is applied."""
    rendered = {o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]:
                container_limits(container(o)["resources"]) for o in base if o["kind"] == "Deployment"}
    assert rendered == documented_limits()


def test_quantities_compare_by_value_not_by_spelling() -> None:
    live = container_limits(
        {"requests": {"cpu": "0.02", "memory": "67108864"}, "limits": {"cpu": "1", "memory": "0.25Gi"}}
    )
    assert live == documented_limits()["postgres"]
    assert container_limits({}) == ComponentLimits(None, None, None, None)


def test_env_var_points_at_another_copy_of_k8s_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "base"
    copy.mkdir()
    for file in (K8S / "base").glob("*.yaml"):
        text = file.read_text()
        if file.name == "redis.yaml":
            text = text.replace("memory: 128Mi", "memory: 96Mi")
        (copy / file.name).write_text(text)
    monkeypatch.setenv(ENV_VAR, str(copy))
    assert base_dir() == copy
    assert documented_limits()["redis"].memory_limit_bytes == 96 * 2**20
    assert documented_limits()["api"] == documented_limits(K8S / "base")["api"]


def test_missing_base_names_the_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(UsageError) as caught:
        documented_limits()
    assert "nowhere" in caught.value.problem and ENV_VAR in caught.value.fix


def test_bad_quantity_is_one_clear_error(tmp_path: Path) -> None:
    copy = tmp_path / "base"
    copy.mkdir()
    for file in (K8S / "base").glob("*.yaml"):
        (copy / file.name).write_text(file.read_text().replace("cpu: 750m", "cpu: lots"))
    with pytest.raises(UsageError) as caught:
        documented_limits(copy)
    assert "'lots'" in caught.value.problem and "nginx" in caught.value.problem


def test_a_missing_component_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "base"
    copy.mkdir()
    for file in (K8S / "base").glob("*.yaml"):
        (copy / file.name).write_text(file.read_text())
    kustomization = copy / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - celery-beat.yaml\n", ""))
    with pytest.raises(UsageError) as caught:
        documented_limits(copy)
    assert "celery-beat" in caught.value.problem

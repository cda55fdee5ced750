"""Compare the shape of a JSON answer with a real Funkwhale sample: the same keys at every
level the sample shows. Lists compare their first items; a null in the sample says nothing
about the shape (pending uploads have ``track: null``, finished ones an object)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = (_REPO / "tests" / "data" / "funkwhale-samples", _REPO.parent / "shared" / "funkwhale-samples")


def samples_dir() -> Path:
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no funkwhale-samples directory among {[str(c) for c in _CANDIDATES]}")


def sample(number: int) -> dict[str, Any]:
    """The exchange ``NN-*.json`` of the captured samples."""
    matches = sorted(samples_dir().glob(f"{number:02d}-*.json"))
    if len(matches) != 1:
        raise FileNotFoundError(f"sample {number:02d} not found (or ambiguous) in {samples_dir()}")
    return json.loads(matches[0].read_text())


def shape_differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every place where `actual` lacks a key `expected` has, has one it lacks, or changes kind."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        problems = [f"{path}: missing key {key!r}" for key in expected.keys() - actual.keys()]
        problems += [f"{path}: unexpected key {key!r}" for key in actual.keys() - expected.keys()]
        for key in expected.keys() & actual.keys():
            problems += shape_differences(expected[key], actual[key], f"{path}.{key}")
        return sorted(problems)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {type(actual).__name__}"]
        if expected and not actual:
            return [f"{path}: expected a non-empty list"]
        if expected and actual:
            return shape_differences(expected[0], actual[0], f"{path}[0]")
        return []
    if expected is None:
        return []
    if isinstance(actual, dict | list):
        return [f"{path}: expected a scalar, got {type(actual).__name__}"]
    return []


def assert_like_sample(number: int, status: int, body: Any) -> None:
    """Same status code and same keys as the real exchange ``number``."""
    response = sample(number)["response"]
    assert status == response["status"], (
        f"sample {number:02d}: status {status}, real server {response['status']}"
    )
    problems = shape_differences(response["body"], body)
    assert not problems, f"sample {number:02d} shape differs:\n" + "\n".join(problems)

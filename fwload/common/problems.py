"""Cross-field checks report the field they are about, not the section that checked them.

A pydantic model validator can only raise one error located at its own model. Scenario
checks compare fields (a profile against its caps, a spike against the duration), so they
collect `Problem`s and raise them together as one `ValidationError` whose locations point
at the offending fields: the loader then names ``load.duration`` instead of ``load``, and
lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

PROBLEM_TYPE = "scenario_problem"
"""The pydantic error type of every cross-field problem (its message is final wording)."""


class Problem(NamedTuple):
    """A bad value at ``loc`` (relative to the model that checks it), with the reason."""

    loc: tuple[str | int, ...]
    message: str
    value: object = None


def raise_problems(model_name: str, problems: Iterable[Problem]) -> None:
    """Raise every problem as one `ValidationError`; do nothing when there is none."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError(PROBLEM_TYPE, "{message}", {"message": problem.message}),
            loc=problem.loc,
            input=problem.value,
        )
        for problem in problems
    ]
    if details:
        raise ValidationError.from_exception_data(model_name, details)

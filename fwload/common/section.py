"""The configuration every scenario section shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A part of a scenario file: unknown keys, NaN and infinity are mistakes, not defaults."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

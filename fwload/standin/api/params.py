"""Query-string filters as django-filter and DRF's OrderingFilter read them.

A malformed number is a 400 naming the parameter (django-filter's form errors); an
unknown ``ordering`` field is ignored and the default order applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from fwload.standin.api.errors import invalid
from fwload.standin.api.views import Call
from fwload.standin.db.tables import tracks

RANDOM = "random"


def int_param(call: Call, name: str) -> int | None:
    raw = call.query(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid({name: ["Enter a number."]}) from None


def int_list_param(call: Call, name: str) -> list[int]:
    try:
        return [int(value) for value in call.query_list(name) if value != ""]
    except ValueError:
        raise invalid({name: ["Enter a number."]}) from None


def bool_param(call: Call, name: str) -> bool | None:
    """django-filter's BooleanFilter: true/false (any case), 1/0; anything else means unset."""
    raw = (call.query(name) or "").lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(raw)


def words_match(text: str, columns: Sequence[Any]) -> ColumnElement[bool]:
    """Every word of `text` appears (case-insensitively) in at least one of `columns`."""
    return and_(
        *(
            or_(*(column.ilike(f"%{_escape(word)}%", escape="\\") for column in columns))
            for word in text.split()
        )
    )


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ordering(call: Call, fields: Mapping[str, Any], default: Sequence[str], tiebreak: Any) -> list[Any]:
    """ORDER BY clauses from ``?ordering=a,-b``; ``random`` is ORDER BY random()."""
    chosen = []
    for item in (call.query("ordering") or "").split(","):
        name = item.strip()
        key = name.lstrip("-")
        if key == RANDOM and RANDOM in fields:
            chosen.append(func.random())
        elif key in fields and key != RANDOM:
            chosen.append(fields[key].desc() if name.startswith("-") else fields[key].asc())
    if not chosen:
        chosen = [
            fields[name.lstrip("-")].desc() if name.startswith("-") else fields[name].asc()
            for name in default
        ]
    return [*chosen, tiebreak]


def track_reference(call: Call, value: Any, field: str = "track") -> int:
    """DRF's PrimaryKeyRelatedField on tracks: the id of an existing track, else a 400."""
    if value is None or value == "":
        raise invalid(
            {field: ["This field is required." if value is None else "This field may not be null."]}
        )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({field: [f"Incorrect type. Expected pk value, received {type(value).__name__}."]})
    try:
        track_id = int(value)
    except ValueError:
        raise invalid(
            {field: [f"Incorrect type. Expected pk value, received {type(value).__name__}."]}
        ) from None
    if call.conn.execute(select(tracks.c.id).where(tracks.c.id == track_id)).first() is None:
        raise invalid({field: [f'Invalid pk "{value}" - object does not exist.']})
    return track_id

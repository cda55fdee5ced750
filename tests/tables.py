"""A run directory's tables read the way a person checks them: through ``fwload export --csv``'s CSV.

Values are the CSV's strings ("" for unknown), so a test reads ``row["status"] == "206"``
whatever the storage underneath (Parquet, stream segments, a torn tail).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from fwload.recording import schema
from fwload.recording.export import csv_text


def table_rows(run_dir: Path, name: str) -> list[dict[str, str]]:
    """Every row of table ``name`` (``requests`` or ``requests.csv``) as a dict of strings."""
    return list(csv.DictReader(io.StringIO(csv_text(run_dir, schema.table_named(name)))))


def table_frame(run_dir: Path, name: str) -> pd.DataFrame:
    """Table ``name`` as pandas reads its CSV export (empty strings kept, no NaN)."""
    return pd.read_csv(io.StringIO(csv_text(run_dir, schema.table_named(name))), keep_default_na=False)

"""The columnar tables: stream segments survive being cut anywhere, compaction never loses or
doubles a row, odd values are stored as what they mean."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from fwload.recording import columnar, schema
from fwload.recording.rundir import RunDirectory

ROW = (1.0, "browse", "/api/v1/tracks/", "GET", 200, 12.5, 100, "", "", "Listener", "local")


def _rows(start: int, count: int) -> list[tuple]:
    return [(float(start + i), "browse", f"/api/v1/tracks/{i % 3}/", "GET", 200, 0.5 * i, i, "", "", "Listener",
             "local") for i in range(count)]


def test_a_segment_cut_at_any_byte_reads_every_batch_completed_before_the_cut(tmp_path):
    writer = columnar.SegmentWriter(tmp_path, schema.REQUESTS)
    ends, written = [writer.path.stat().st_size], []
    for number, count in enumerate((1, 7, 300, 2, 40)):
        batch = _rows(len(written), count)
        batch[0] = (*batch[0][:7], "http", f'HTTP 500 "é", #{number}', *batch[0][9:])
        writer.write(batch)
        written += batch
        ends.append(writer.path.stat().st_size)
    whole = writer.path.read_bytes()
    cuts = sorted({0, 1, *ends, *(end - 1 for end in ends[1:]), *(end + 3 for end in ends[:-1]),
                   *range(ends[0], ends[-1], 97)})
    for cut in cuts:
        (tmp_path / "cut").mkdir(exist_ok=True)
        (tmp_path / "cut" / writer.path.name).write_bytes(whole[:cut])
        read = columnar.read_table(tmp_path / "cut", schema.REQUESTS)
        complete = sum(1 for end in ends[1:] if end <= cut)
        expected = written[: sum((1, 7, 300, 2, 40)[:complete])]
        assert [tuple(row.values()) for row in read.data.to_pylist()] == expected, cut
        assert read.cut == (cut not in ends and cut > 0), cut


def test_an_interrupted_compaction_counts_no_row_twice_and_later_segments_still_count(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("requests", _rows(0, 5))
    run.append_rows("requests", _rows(5, 5))
    run.close()
    segments = [path for _n, path in columnar.segments(run.path, schema.REQUESTS)]
    kept = {path.name: path.read_bytes() for path in segments}
    assert columnar.compact(run.path, schema.REQUESTS) == (10, False)
    for name, data in kept.items():  # killed after the rename, before the segments were removed
        (run.path / name).write_bytes(data)
    assert columnar.count_rows(run.path, schema.REQUESTS) == 10
    later = RunDirectory.open(run.path)
    later.append_rows("requests", _rows(10, 3))
    assert later.counts["requests"] == 13
    meta = later.finalize("complete")
    assert meta["counts"]["requests"] == 13
    assert columnar.read_table(run.path, schema.REQUESTS).data.column("ts").to_pylist() == [float(i) for i in range(13)]
    assert sorted(p.name for p in run.path.glob("requests*")) == ["requests.parquet"]


def test_a_torn_tail_is_dropped_at_compaction_and_run_json_says_which_table(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("requests", _rows(0, 4))
    run.append_rows("requests", _rows(4, 4))
    run.close()
    path = columnar.segments(run.path, schema.REQUESTS)[0][1]
    path.write_bytes(path.read_bytes()[:-40])
    meta = RunDirectory.open(run.path).finalize("crashed")
    assert meta["counts"]["requests"] == 4 and meta["cut_tables"] == ["requests"]
    assert json.loads((run.path / "run.json").read_text())["cut_tables"] == ["requests"]


def test_unknown_numbers_are_null_text_is_never_null_and_flags_are_booleans(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("imports", [(1.0, None, "timeout", "", 3, "valid", "mp3", 10, "Uploader", "0")])
    sample = (2.0, "processes", "api", "p", "api", "", None, 5, "", None, None, None, None, None, 0, 0, None, None,
              None, 0, None, "false", "")
    run.append_rows("resources", [sample])
    run.finalize("complete")
    imports = columnar.read_table(run.path, schema.IMPORTS).data.to_pylist()[0]
    assert imports["upload"] == "" and imports["wait_ms"] is None and imports["polls"] == 3
    resources = columnar.read_table(run.path, schema.RESOURCES).data.to_pylist()[0]
    assert resources["ready"] is False and resources["phase"] == "" and resources["cpu_m"] is None
    assert resources["memory_bytes"] == 5.0


def test_a_row_of_the_wrong_width_is_refused_naming_the_table(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    with pytest.raises(ValueError, match="a requests row has 10 values, the table has 11 columns"):
        run.append_rows("requests", [ROW, ROW[:-1]])
    with pytest.raises(KeyError, match="no table 'listens'"):
        run.append_rows("listens", [ROW])


def test_a_column_missing_from_an_older_file_reads_as_nulls(tmp_path):
    older = schema.Table("requests", "", schema.REQUESTS.columns[:-1])
    columnar.write_parquet(tmp_path, older, [columnar.to_batch(older, [ROW[:-1]])])
    read = columnar.read_table(tmp_path, schema.REQUESTS)
    assert read.data.column("worker").to_pylist() == [None]
    assert read.data.column("group").to_pylist() == ["browse"]


def test_parquet_files_keep_categories_dictionary_encoded_and_zstd_compressed(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("requests", _rows(0, 50))
    run.finalize("complete")
    file = pq.ParquetFile(run.path / "requests.parquet")
    assert str(file.schema_arrow.field("group").type).startswith("dictionary")
    assert file.metadata.row_group(0).column(0).compression == "ZSTD"
    assert file.schema_arrow.metadata[schema.PARQUET_SEGMENTS_KEY.encode()] != b"0"


def test_the_schema_defines_every_column_with_a_known_kind_and_a_doc():
    for table in schema.TABLES.values():
        assert len(set(table.column_names)) == len(table.columns)
        for column in table.columns:
            assert column.kind in schema.KINDS and column.doc, (table.name, column.name)
    assert schema.CSV_FILES[schema.REQUESTS_CSV] == schema.REQUEST_COLUMNS
    assert "response_ms" in schema.__doc__ and "[ms]" in schema.__doc__


def test_a_run_still_being_written_reads_up_to_its_last_flush(tmp_path):
    run = RunDirectory.create(tmp_path, "x", {})
    run.append_rows("requests", _rows(0, 20))
    first = columnar.read_table(run.path, schema.REQUESTS)
    run.append_rows("requests", _rows(20, 5))
    second = columnar.read_table(run.path, schema.REQUESTS)
    assert (first.data.num_rows, second.data.num_rows) == (20, 25)
    assert not first.cut and not second.cut

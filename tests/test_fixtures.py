"""The audio fixtures: deterministic, distinct, validly tagged, and bad exactly as labelled."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile
from mutagen.ogg import OggPage

from fwload.errors import FwloadError
from fwload.fixtures import (
    BAD_KINDS,
    DEFAULT_COUNT,
    FORMAT_NAMES,
    FixtureKind,
    describe,
    ensure_fixtures,
    generate_fixtures,
    load_manifest,
    render_track,
    retag,
)
from fwload.fixtures import generate as generate_module
from fwload.fixtures.audio import encode, ogg_serial
from fwload.fixtures.catalogue import MAX_COUNT, plan_fixtures
from fwload.fixtures.manifest import MANIFEST_NAME

CLI_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def default_set(tmp_path_factory: pytest.TempPathFactory):
    return generate_fixtures(tmp_path_factory.mktemp("fixtures"), DEFAULT_COUNT)


def sha256s(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def decoded(data: bytes) -> np.ndarray:
    samples, _ = soundfile.read(io.BytesIO(data), dtype="int16")
    return samples


def parses_with_mutagen(path: Path) -> bool:
    try:
        return mutagen.File(path) is not None
    except mutagen.MutagenError:
        return False


def test_generating_twice_gives_byte_identical_files(default_set, tmp_path):
    again = generate_fixtures(tmp_path, DEFAULT_COUNT)

    first, second = sha256s(default_set.folder), sha256s(again.folder)
    assert first == second
    assert MANIFEST_NAME in first
    assert {"mp3", "ogg", "flac"} <= {Path(name).suffix.lstrip(".") for name in first}


def test_ogg_fixtures_carry_a_fixed_serial_and_valid_page_crcs():
    one, two = encode(6.0, 42, "ogg"), encode(6.0, 42, "ogg")

    assert one == two
    stream = io.BytesIO(one)
    pages = 0
    while stream.tell() < len(one):
        start = stream.tell()
        page = OggPage(stream)
        assert page.serial == ogg_serial(42)
        assert page.write() == one[start : stream.tell()]  # CRC recomputed from the content matches
        pages += 1
    assert pages > 2
    assert len(decoded(one)) == 6 * 44100


def test_every_valid_file_has_its_tags_and_a_5_to_30_s_duration(default_set):
    valid = default_set.of_kind(FixtureKind.VALID)
    assert len(valid) == DEFAULT_COUNT

    for entry in valid:
        path = default_set.path(entry)
        audio = mutagen.File(path, easy=True)
        assert audio is not None, entry.name
        read = {key: audio.get(key, [None])[0] for key in ("title", "artist", "album", "tracknumber", "date", "genre")}
        tags = entry.tags
        assert read == {
            "title": tags.title,
            "artist": tags.artist,
            "album": tags.album,
            "tracknumber": str(tags.track_number),
            "date": tags.date,
            "genre": tags.genre,
        }
        assert all(read.values()), entry.name
        assert 5 <= audio.info.length <= 30
        assert audio.info.length == pytest.approx(entry.duration, abs=0.05)
        samples = decoded(path.read_bytes())
        assert len(samples) / 44100 == pytest.approx(entry.duration, abs=0.05)
        assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 1000, f"{entry.name} is nearly silent"


def test_mp3_fixtures_are_128_kbps_cbr_stereo(default_set):
    mp3s = [entry for entry in default_set.of_kind(FixtureKind.VALID) if entry.format == "mp3"]
    assert mp3s

    for entry in mp3s:
        info = mutagen.File(default_set.path(entry)).info
        assert (info.bitrate, info.sample_rate, info.channels) == (128000, 44100, 2)
        assert entry.size == pytest.approx(16000 * entry.duration, rel=0.1)


def test_valid_files_are_distinct_in_tags_and_audio(default_set):
    valid = default_set.of_kind(FixtureKind.VALID)

    keys = [(e.tags.title, e.tags.artist, e.tags.album) for e in valid]
    assert len(set(keys)) == len(valid)
    assert len({e.tags.title for e in valid}) == len(valid)
    audio_hashes = {hashlib.sha256(decoded(default_set.path(e).read_bytes()).tobytes()).hexdigest() for e in valid}
    assert len(audio_hashes) == len(valid)


def test_plan_keeps_titles_distinct_up_to_the_largest_count():
    valid = [planned for planned in plan_fixtures(MAX_COUNT) if planned.kind is FixtureKind.VALID]

    assert len({planned.tags.title for planned in valid}) == MAX_COUNT
    assert len({(p.tags.title, p.tags.artist, p.tags.album) for p in valid}) == MAX_COUNT


@pytest.mark.parametrize("count", [0, MAX_COUNT + 1])
def test_count_out_of_range_is_a_usage_error(count):
    with pytest.raises(FwloadError) as caught:
        plan_fixtures(count)
    assert str(count) in caught.value.problem
    assert str(MAX_COUNT) in caught.value.fix


def test_manifest_lists_every_file_once_with_size_and_sha256(default_set):
    manifest = default_set
    on_disk = sha256s(manifest.folder)
    on_disk.pop(MANIFEST_NAME)

    assert {entry.name for entry in manifest.files} == set(on_disk)
    for entry in manifest.files:
        assert on_disk[entry.name] == entry.sha256
        assert manifest.path(entry).stat().st_size == entry.size
    assert sorted(entry.kind for entry in manifest.files if entry.kind is not FixtureKind.VALID) == sorted(BAD_KINDS)
    raw = json.loads((manifest.folder / MANIFEST_NAME).read_text())
    assert len(raw["params_hash"]) == 64 and raw["params"]["count"] == DEFAULT_COUNT


def test_untagged_file_has_no_tags_yet_decodes(default_set):
    (entry,) = default_set.of_kind(FixtureKind.UNTAGGED)
    path = default_set.path(entry)

    audio = mutagen.File(path)
    assert audio is not None
    assert not audio.tags
    assert len(decoded(path.read_bytes())) / 44100 == pytest.approx(entry.duration, abs=0.05)


def test_no_artist_file_has_a_title_and_no_artist(default_set):
    (entry,) = default_set.of_kind(FixtureKind.NO_ARTIST)

    audio = mutagen.File(default_set.path(entry), easy=True)
    assert audio["title"] == [entry.tags.title]
    assert "artist" not in audio
    assert len(audio.tags) == 1


def test_corrupt_file_has_an_audio_extension_but_is_not_audio(default_set):
    (entry,) = default_set.of_kind(FixtureKind.CORRUPT)
    path = default_set.path(entry)

    assert path.suffix.lstrip(".") in FORMAT_NAMES
    assert entry.duration is None
    assert not parses_with_mutagen(path)
    with pytest.raises(soundfile.LibsndfileError):
        soundfile.read(path)


def test_duplicate_repeats_the_tags_of_a_valid_track_with_other_audio(default_set):
    (entry,) = default_set.of_kind(FixtureKind.DUPLICATE)
    (original,) = [e for e in default_set.of_kind(FixtureKind.VALID) if e.name == entry.duplicate_of]

    assert describe(default_set.path(entry).read_bytes(), entry.format).tags == original.tags
    assert entry.tags == original.tags
    assert entry.sha256 != original.sha256


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_retag_replaces_all_tags_and_keeps_the_audio(default_set, fmt):
    entry = next(e for e in default_set.of_kind(FixtureKind.VALID) if e.format == fmt)
    original = default_set.path(entry).read_bytes()

    data = retag(original, fmt, title="Upload 7 of user 3", artist="Load Tester", album="Run 1", track_number=7)

    info = describe(data, fmt)
    assert info.tags.model_dump() == {
        "title": "Upload 7 of user 3",
        "artist": "Load Tester",
        "album": "Run 1",
        "track_number": 7,
        "date": None,
        "genre": None,
    }
    assert info.duration == pytest.approx(entry.duration, abs=0.05)
    assert np.array_equal(decoded(data), decoded(original))
    assert describe(retag(data, fmt, title="Again", artist="X", album=None), fmt).tags.album is None


def test_retag_gives_tags_to_an_untagged_file(default_set):
    (entry,) = default_set.of_kind(FixtureKind.UNTAGGED)

    data = retag(default_set.path(entry).read_bytes(), "mp3", title="Now Tagged", artist="Someone", album=None)

    assert describe(data, "mp3").tags.title == "Now Tagged"


def test_retag_rejects_bytes_that_are_not_that_format(default_set):
    (entry,) = default_set.of_kind(FixtureKind.CORRUPT)

    with pytest.raises(FwloadError) as caught:
        retag(default_set.path(entry).read_bytes(), "mp3", title="t", artist="a", album=None)
    assert "not a readable mp3" in caught.value.problem
    with pytest.raises(FwloadError) as caught:
        retag(b"", "wav", title="t", artist="a", album=None)
    assert "mp3" in caught.value.fix


def test_render_track_omits_tags_given_as_none():
    titled = render_track("ogg", title="Only A Title", seconds=5, seed=3)
    bare = render_track("mp3", seconds=5, seed=3)

    assert describe(titled, "ogg").tags.model_dump(exclude_none=True) == {"title": "Only A Title"}
    assert mutagen.File(io.BytesIO(bare)).tags is None
    assert describe(bare, "mp3").duration == pytest.approx(5, abs=0.05)


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_render_track_depends_only_on_seed_and_tags(fmt):
    one = render_track(fmt, title="T", artist="A", seconds=5, seed=11)

    assert one == render_track(fmt, title="T", artist="A", seconds=5, seed=11)
    assert not np.array_equal(decoded(one), decoded(render_track(fmt, title="T", artist="A", seconds=5, seed=12)))


def test_load_manifest_of_a_missing_folder_names_the_fix(tmp_path):
    with pytest.raises(FwloadError) as caught:
        load_manifest(tmp_path / "nowhere")

    assert "does not exist" in caught.value.problem
    assert "fwload fixtures" in caught.value.fix


def test_load_manifest_rejects_edited_files_and_stale_generators(default_set, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(default_set.folder, copy)
    victim = copy / default_set.files[0].name
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    with pytest.raises(FwloadError, match="changed since it was generated"):
        load_manifest(copy)

    shutil.copy(default_set.path(default_set.files[0]), victim)
    raw = json.loads((copy / MANIFEST_NAME).read_text())
    raw["params"]["mutagen"] = "0.1"
    (copy / MANIFEST_NAME).write_text(json.dumps(raw))
    with pytest.raises(FwloadError, match="stale.*mutagen") as caught:
        load_manifest(copy)
    assert "fwload fixtures" in caught.value.fix


def test_ensure_fixtures_generates_once_then_reuses_and_follows_count(tmp_path):
    (tmp_path / "README.md").write_text("kept\n")

    first = ensure_fixtures(tmp_path, 2)
    inodes = {entry.name: first.path(entry).stat().st_ino for entry in first.files}
    again = ensure_fixtures(tmp_path, 2)
    assert {entry.name: again.path(entry).stat().st_ino for entry in again.files} == inodes
    assert ensure_fixtures(tmp_path).params.count == 2

    smaller = ensure_fixtures(tmp_path, 1)
    names = {entry.name for entry in smaller.files}
    assert {path.name for path in tmp_path.iterdir()} == names | {MANIFEST_NAME, "README.md"}
    assert (tmp_path / "README.md").read_text() == "kept\n"


def test_interrupted_generation_leaves_the_previous_set_intact(tmp_path, monkeypatch):
    before = generate_fixtures(tmp_path, 1)
    hashes = sha256s(tmp_path)
    real = generate_module.render_planned

    def fail_on_duplicate(planned):
        if planned.kind is FixtureKind.DUPLICATE:
            raise KeyboardInterrupt
        return real(planned)

    monkeypatch.setattr(generate_module, "render_planned", fail_on_duplicate)
    with pytest.raises(KeyboardInterrupt):
        generate_fixtures(tmp_path, 2)

    assert sha256s(tmp_path) == hashes
    assert load_manifest(tmp_path).files == before.files


def fwload_script() -> Path:
    script = Path(sys.executable).with_name("fwload")
    assert script.exists(), f"{script} is missing: install the package (pip install -e .)"
    return script


def test_cli_writes_the_folder_and_prints_it(tmp_path):
    out = tmp_path / "audio"

    done = subprocess.run(
        [fwload_script(), "fixtures", "--out", str(out), "--count", "3"],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    manifest = load_manifest(out)
    assert sorted(entry.format for entry in manifest.of_kind(FixtureKind.VALID)) == ["flac", "mp3", "ogg"]
    assert len(manifest.files) == 3 + len(BAD_KINDS)


def test_cli_reports_a_bad_out_path_with_its_fix(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")

    done = subprocess.run(
        [fwload_script(), "fixtures", "--out", str(not_a_folder)],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=tmp_path,
    )

    assert done.returncode == 2
    assert "fwload: error:" in done.stderr and "is not a folder" in done.stderr
    assert "fix:" in done.stderr
    assert done.stdout == ""


def test_interrupted_swap_leaves_no_manifest_vouching_for_the_folder(tmp_path, monkeypatch):
    generate_fixtures(tmp_path, 1)
    real_replace = generate_module.os.replace
    moves = []

    def replace_then_fail(src, dst):
        moves.append(dst)
        if len(moves) == 3:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(generate_module.os, "replace", replace_then_fail)
    with pytest.raises(KeyboardInterrupt):
        generate_fixtures(tmp_path, 2)
    monkeypatch.undo()

    with pytest.raises(FwloadError, match="no manifest.json"):
        load_manifest(tmp_path)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".fixtures-")]
    assert ensure_fixtures(tmp_path, 2).params.count == 2

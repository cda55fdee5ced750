"""How many bytes of the file one second of audio takes: what a player consumes in real time.

From what the server says first (Funkwhale's upload ``bitrate`` in bit/s and ``duration`` in
whole seconds, funkwhale-api.md §10), else from the file's own header once its first bytes
are in. Funkwhale rounds durations to whole seconds (5 for a 5.08 s file, sample 34), so a
bitrate consistent with the size and the rounded duration is the better figure; a VBR file
whose nominal bitrate disagrees with both falls back on size / duration.
"""

from __future__ import annotations

import io

DURATION_ROUNDING_S = 1.0
"""How far size × 8 / bitrate may sit from the rounded duration and still be trusted."""


def byte_rate(size: float | None, duration_s: float | None, bitrate_bps: float | None) -> float | None:
    """Bytes per second of audio from what is known; None when not enough is."""
    by_bitrate = bitrate_bps / 8 if bitrate_bps and bitrate_bps > 0 else None
    by_duration = size / duration_s if size and duration_s and duration_s > 0 else None
    if by_bitrate is None:
        return by_duration
    if by_duration is None or size is None or duration_s is None:
        return by_bitrate
    return by_bitrate if abs(size / by_bitrate - duration_s) <= DURATION_ROUNDING_S else by_duration


def header_rate(first_bytes: bytes, size: float | None) -> float | None:
    """Bytes per second of audio read from the start of the file (MP3, Ogg, FLAC...), or None.

    FLAC's STREAMINFO holds the exact length, so size / length; lossy formats carry a
    bitrate in their first frame or header. mutagen reads both from a file's first bytes.
    """
    import mutagen  # only when the server said nothing: most plays never need it

    try:
        found = mutagen.File(io.BytesIO(first_bytes))
    except Exception:  # noqa: BLE001 - any parse failure means "not known"
        return None
    info = getattr(found, "info", None)
    if info is None:
        return None
    length = float(getattr(info, "length", 0) or 0)
    if type(found).__name__ == "FLAC" and length > 0 and size:
        return size / length
    bitrate = float(getattr(info, "bitrate", 0) or 0)
    if bitrate > 0:
        return bitrate / 8
    return size / length if size and length > 0 else None

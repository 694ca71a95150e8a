"""Writing audio files: WAV (with a Broadcast-WAV ``bext`` time reference) and FLAC.

Audio arrives as ``(channels, samples)`` float32; the transpose soundfile wants happens here.
The BWF time reference is the file's song position in samples, which REAPER ("move to source
preferred position"), Pro Tools (spot to original time stamp) and Ardour honour.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from ainur_cli.errors import ExportError

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
FORMATS = {"wav": "WAV", "flac": "FLAC"}
SFC_SET_BROADCAST_INFO = 0x10F1
_BEXT_SIZE = 864  # sizeof(SF_BROADCAST_INFO) with its default 256-byte coding history


def _bext_struct(description: str, originator: str, time_reference_samples: int) -> bytes:
    """libsndfile's SF_BROADCAST_INFO, packed by hand (soundfile does not declare it)."""
    buf = bytearray(_BEXT_SIZE)
    struct.pack_into("256s32s32s10s8s", buf, 0, description.encode("utf-8")[:255],
                     originator.encode("utf-8")[:31], b"", b"", b"")
    struct.pack_into("<IIh", buf, 340, time_reference_samples & 0xFFFFFFFF,
                     time_reference_samples >> 32, 1)
    return bytes(buf)


def write_audio(
    path: str | Path,
    audio: np.ndarray,
    sample_rate: int,
    *,
    bit_depth: str = "24",
    fmt: str = "wav",
    time_reference_samples: int = 0,
    description: str = "",
    originator: str = "Ainur",
) -> None:
    """Write ``audio`` (channels, samples) float32 at ``sample_rate``.

    Integer formats are clipped to [-1, 1) (the mastering stage keeps the true peak below its
    ceiling, so this only guards against misuse); 32-bit float is written as is. WAV files get
    a ``bext`` chunk (version 1) with ``time_reference_samples``; FLAC has no bext chunk.
    No date is written, so the same audio gives the same bytes.
    """
    if bit_depth not in SUBTYPES:
        raise ExportError("unsupported bit depth", field="bit_depth", value=bit_depth,
                          allowed="16, 24 or 32f")
    if fmt not in FORMATS:
        raise ExportError("unsupported format", field="format", value=fmt, allowed="wav or flac")
    if fmt == "flac" and bit_depth == "32f":
        raise ExportError("FLAC cannot store 32-bit float", field="bit_depth", value=bit_depth,
                          allowed="16 or 24 with flac, or wav for 32f")
    if audio.ndim != 2:
        raise ValueError("audio must be (channels, samples)")
    data = np.ascontiguousarray(audio.T, dtype=np.float32)
    if bit_depth != "32f":
        data = np.clip(data, -1.0, 1.0 - 2.0**-23)
    try:
        with sf.SoundFile(str(path), "w", samplerate=sample_rate, channels=audio.shape[0],
                          subtype=SUBTYPES[bit_depth], format=FORMATS[fmt]) as f:
            if fmt == "wav":
                info = _bext_struct(description, originator, int(time_reference_samples))
                cbuf = sf._ffi.new("char[]", info)
                ok = sf._snd.sf_command(f._file, SFC_SET_BROADCAST_INFO, cbuf, len(info))
                if ok != 1:  # SF_TRUE
                    raise ExportError("libsndfile refused the BWF time reference", file=str(path))
            f.write(data)
    except sf.LibsndfileError as e:
        raise ExportError(f"cannot write audio: {e}", file=str(path)) from None


def read_bext(path: str | Path) -> dict:
    """Parse a WAV file's ``bext`` chunk independently of libsndfile.

    :returns: ``description``, ``originator``, ``origination_date``, ``origination_time``,
        ``time_reference`` (samples), ``version``; raises ExportError if there is none.
    """
    raw = Path(path).read_bytes()
    if raw[:4] not in (b"RIFF", b"RF64") or raw[8:12] != b"WAVE":
        raise ExportError("not a WAV file", file=str(path))
    pos = 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        body = raw[pos + 8:pos + 8 + size]
        if cid == b"bext":
            desc, orig, _ref, date, time_, lo, hi, version = struct.unpack_from(
                "<256s32s32s10s8sIIH", body, 0)
            text = lambda b: b.split(b"\0", 1)[0].decode("utf-8", "replace")
            return {"description": text(desc), "originator": text(orig),
                    "origination_date": text(date), "origination_time": text(time_),
                    "time_reference": lo | (hi << 32), "version": version}
        pos += 8 + size + (size & 1)
    raise ExportError("no bext chunk", file=str(path))

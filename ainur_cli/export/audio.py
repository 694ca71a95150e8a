"""Writing audio files: WAV with a Broadcast-WAV ``bext`` time reference, and FLAC.

Audio arrives as ``(channels, samples)`` float32. For WAV (mono/stereo, little-endian
hosts) the samples are quantised and interleaved into PCM bytes here, block by block, and
handed to libsndfile's ``sf_write_raw`` — libsndfile still writes the header, the ``bext``
chunk and the frame count; this is about 3x cheaper than its own int→24-bit conversion plus
the transpose it needs. FLAC, 32-bit float (libsndfile fills its PEAK chunk from what it
converts) and other channel counts go through ``SoundFile.write``. Files are closed without
``SoundFile.close``'s fsync (see :func:`_close`).

The BWF time reference is the file's song position in samples (at the file's sample rate);
REAPER ("move to source preferred position", InsertMedia &4096), Pro Tools
(spot to original time stamp), Ardour/Mixbus and Cakewalk place the file there.

python-soundfile has no bext API; libsndfile's ``SFC_SET_BROADCAST_INFO`` command is sent
through soundfile's own cffi handle (``soundfile._snd``) with libsndfile's
``SF_BROADCAST_INFO`` struct packed by hand. :func:`read_bext` parses the chunk from the
file's bytes independently of libsndfile (used by the tests).

Quantisation and clipping policy (explicit, like demucs' ``--clip-mode clamp``): integer
formats (16, 24 bit) are rounded here to the nearest step of 2^−(bits−1) and clamped to
[−1, 1 − 2^−(bits−1)] — libsndfile itself truncates (a −½ LSB bias in every file, which would
add up when stems are summed) — and a warning says how many samples were clamped (the master
keeps the mix under its true-peak ceiling and every stem under −0.1 dBFS, so this should
never trigger). 32-bit float passes unchanged. No dither: identical input gives identical
bytes, and rounding error is zero-mean (−101 dBFS RMS at 16 bit, −149 dBFS at 24 bit).
"""

from __future__ import annotations

import logging
import struct
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from ainur_cli.errors import ExportError

log = logging.getLogger(__name__)

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
FORMATS = {"wav": "WAV", "flac": "FLAC"}
SFC_SET_BROADCAST_INFO = 0x10F1
_BEXT_STRUCT_SIZE = 864     # sizeof(SF_BROADCAST_INFO): 256-byte coding history
_RIFF_LIMIT = 0xFFFFFFFF - 1024 * 1024  # larger WAV data goes to RF64 (bext included)
_FRAMES_PER_WRITE = 1 << 16
_LOUDNESS_KEYS = ("loudness_value", "loudness_range", "max_true_peak_level",
                  "max_momentary_loudness", "max_short_term_loudness")


def _bext_struct(description: str, originator: str, originator_reference: str,
                 date: str, time: str, time_reference_samples: int,
                 loudness: dict | None) -> bytes:
    """libsndfile's SF_BROADCAST_INFO (C layout, so ``time_reference_low`` sits at 340)."""
    buf = bytearray(_BEXT_STRUCT_SIZE)

    def text(s: str, size: int) -> bytes:
        return s.encode("utf-8")[: size].ljust(size, b"\0")

    struct.pack_into("<256s32s32s10s8s", buf, 0, text(description, 256), text(originator, 32),
                     text(originator_reference, 32), text(date, 10), text(time, 8))
    # libsndfile writes bext version 2 (with the EBU Tech 3285 v2 loudness fields) whatever
    # the struct says; unset loudness fields must then hold 0x7FFF ("not given"), not 0.
    struct.pack_into("<IIh", buf, 340, time_reference_samples & 0xFFFFFFFF,
                     time_reference_samples >> 32, 2)
    given = loudness or {}
    values = [given.get(k) for k in _LOUDNESS_KEYS]
    packed = [0x7FFF if v is None or not np.isfinite(v) else
              int(max(-32767, min(32766, round(float(v) * 100)))) for v in values]
    struct.pack_into("<5h", buf, 414, *packed)
    return bytes(buf)


def _check_audio(audio: np.ndarray, path: str) -> np.ndarray:
    a = np.asarray(audio)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[0] > 64:
        raise ExportError("audio must be (channels, samples)", file=path, value=a.shape,
                          allowed="a 2-D array with 1..64 channels")
    if not np.issubdtype(a.dtype, np.floating):
        raise ExportError("audio must be floating point", file=path, value=str(a.dtype),
                          allowed="float32 or float64 in [-1, 1]")
    for s in range(0, a.shape[1], 1 << 20):
        if not np.isfinite(a[:, s: s + (1 << 20)]).all():
            raise ExportError("audio contains NaN or infinite samples", file=path,
                              allowed="finite samples")
    return a


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
    originator_reference: str = "",
    origination: str | None = None,
    loudness: dict | None = None,
) -> None:
    """Write ``audio`` (channels, samples) float at ``sample_rate`` Hz to ``path``.

    :param bit_depth: ``"16"``, ``"24"`` (PCM, clamped to [−1, 1]) or ``"32f"`` (float, as is;
        WAV only). Integers 16/24 are accepted too.
    :param fmt: ``"wav"`` (with a ``bext`` chunk) or ``"flac"`` (no ``bext``: FLAC has no
        such chunk, so the time reference is *not* stored; DAWs then place it at the cursor).
    :param time_reference_samples: the file's song position in samples (≥ 0), stored as the
        BWF TimeReference.
    :param description: BWF description (≤ 256 bytes of UTF-8, longer is cut).
    :param originator: BWF originator (≤ 32 bytes).
    :param originator_reference: BWF originator reference (≤ 32 bytes).
    :param origination: ``"YYYY-MM-DD"`` or ``"YYYY-MM-DDTHH:MM:SS"``; left empty by default
        so that identical audio gives identical bytes.
    :param loudness: optional BWF v2 loudness fields (``loudness_value`` LUFS,
        ``loudness_range`` LU, ``max_true_peak_level`` dBTP, ``max_momentary_loudness``,
        ``max_short_term_loudness`` LUFS), stored x 100 as EBU Tech 3285 v2 asks; fields
        not given hold 0x7FFF ("not given"). The chunk is version 2 (libsndfile's choice).
    :raises ExportError: unsupported bit depth / format / combination, bad audio, or the file
        cannot be written (names the file and the reason).
    """
    name = str(path)
    depth = str(bit_depth).lower()
    if depth not in SUBTYPES:
        raise ExportError("unsupported bit depth", file=name, field="bit_depth", value=bit_depth,
                          allowed="16, 24 or 32f")
    kind = str(fmt).lower()
    if kind not in FORMATS:
        raise ExportError("unsupported audio format", file=name, field="format", value=fmt,
                          allowed="wav or flac")
    if kind == "flac" and depth == "32f":
        raise ExportError("FLAC cannot store 32-bit float", file=name, field="bit_depth",
                          value=bit_depth, allowed="16 or 24 with flac, or wav for 32f")
    if not isinstance(sample_rate, (int, np.integer)) or not 1 <= sample_rate <= 768_000:
        raise ExportError("unsupported sample rate", file=name, field="sample_rate",
                          value=sample_rate, allowed="an integer 1..768000 Hz")
    if int(time_reference_samples) < 0 or int(time_reference_samples) >= 2 ** 64:
        raise ExportError("time reference must be a sample position", file=name,
                          field="time_reference_samples", value=time_reference_samples,
                          allowed="an integer >= 0")
    a = _check_audio(audio, name)
    if not Path(name).parent.is_dir():
        raise ExportError("the folder does not exist", file=name,
                          allowed="a path in an existing, writable folder")
    channels, frames = a.shape
    container = FORMATS[kind]
    bytes_per_sample = {"16": 2, "24": 3, "32f": 4}[depth]
    if kind == "wav" and frames * channels * bytes_per_sample > _RIFF_LIMIT:
        container = "RF64"
    date, time = "", ""
    if origination:
        date, _, time = origination.partition("T")
    steps = {"16": 2 ** 15, "24": 2 ** 23}.get(depth)   # quantisation steps per unit
    clamped = 0
    # Raw bytes for integer WAV only: for float files libsndfile keeps a PEAK chunk that it
    # fills from the samples it converts itself.
    raw = kind == "wav" and depth != "32f" and sys.byteorder == "little" and channels <= 2
    try:
        f = sf.SoundFile(name, "w", samplerate=int(sample_rate), channels=channels,
                         subtype=SUBTYPES[depth], format=container)
        try:
            if kind == "wav":
                info = _bext_struct(description, originator, originator_reference, date,
                                    time, int(time_reference_samples), loudness)
                cbuf = sf._ffi.new("char[]", info)
                if sf._snd.sf_command(f._file, SFC_SET_BROADCAST_INFO, cbuf, len(info)) != 1:
                    raise ExportError("libsndfile refused the Broadcast-WAV (bext) chunk",
                                      file=name)
            else:
                log.debug("%s: FLAC has no bext chunk; the time reference is not stored", name)
            for s in range(0, frames, _FRAMES_PER_WRITE):
                block = a[:, s: s + _FRAMES_PER_WRITE]
                if steps is None:
                    f.write(np.ascontiguousarray(block.T, dtype=np.float32))
                    continue
                q, over = _quantised(block, steps)
                clamped += over
                if raw:
                    _write_raw(f, name, _pcm_bytes(q, depth))
                elif depth == "16":
                    f.write(np.ascontiguousarray(q.T).astype(np.int16))
                else:
                    f.write(np.ascontiguousarray(q.T) << 8)
        finally:
            _close(f, name)
    except ExportError:
        raise
    except (sf.LibsndfileError, OSError, RuntimeError) as e:
        reason = getattr(e, "error_string", None) or getattr(e, "strerror", None) or str(e)
        raise ExportError(f"cannot write audio file: {reason}", file=name,
                          allowed="a writable path in an existing folder") from None
    if clamped:
        log.warning("%s: %d samples above full scale were clamped (%s-bit)", name, clamped, depth)


def _quantised(block: np.ndarray, steps: int) -> tuple[np.ndarray, int]:
    """(channels, m) float → int32 steps of 1/``steps`` (rounded to nearest, clamped to
    [−steps, steps − 1]) and the number of clamped samples."""
    q = np.multiply(block, np.float32(steps), dtype=np.float32)   # a power of two: exact
    np.rint(q, out=q)
    clamped = 0
    if q.size and (q.max() > steps - 1 or q.min() < -steps):
        clamped = int(np.count_nonzero((q > steps - 1) | (q < -steps)))
        np.clip(q, -steps, steps - 1, out=q)
    return q.astype(np.int32), clamped


def _pcm_bytes(q: np.ndarray, depth: str) -> np.ndarray:
    """Interleaved little-endian PCM bytes of (1 or 2, m) int32 samples, as a uint8/uint32
    array (16-bit: 2 bytes a sample; 24-bit: 3 bytes, packed 4 samples to 3 words)."""
    channels, m = q.shape
    u = q.view(np.uint32)
    if depth == "16":
        if channels == 1:
            return q.astype(np.int16)
        return (u[0] & np.uint32(0xFFFF)) | (u[1] << np.uint32(16))
    u = u & np.uint32(0xFFFFFF)
    if channels == 1 or m % 2:
        flat = np.ascontiguousarray(u.T).reshape(-1)
        return np.ascontiguousarray(flat.view(np.uint8).reshape(-1, 4)[:, :3])
    # Stereo, m even: samples L0 R0 L1 R1 (4 x 24 bits) make 3 words.
    l0, r0, l1, r1 = u[0, 0::2], u[1, 0::2], u[0, 1::2], u[1, 1::2]
    words = np.empty((m // 2, 3), dtype=np.uint32)
    np.bitwise_or(l0, r0 << np.uint32(24), out=words[:, 0])
    np.bitwise_or(r0 >> np.uint32(8), l1 << np.uint32(16), out=words[:, 1])
    np.bitwise_or(l1 >> np.uint32(16), r1 << np.uint32(8), out=words[:, 2])
    return words


def _close(f: sf.SoundFile, name: str) -> None:
    """``sf_close`` without ``SoundFile.close``'s ``sf_write_sync`` first: that is an fsync
    per file (~20 ms of wall and some system time for a 3-minute stem) and it comes before
    libsndfile rewrites the header, so it made nothing durable anyway. A crash or Ctrl-C
    cannot leave a half-written song in place: the render writes into a staged folder."""
    if f.closed:
        return
    handle, f._file = f._file, None
    if sf._snd.sf_close(handle) != 0:
        raise ExportError("cannot close the audio file", file=name,
                          allowed="a writable path with free space")


def _write_raw(f: sf.SoundFile, name: str, data: np.ndarray) -> None:
    """Hand ready-made sample bytes to libsndfile (``sf_write_raw``: libsndfile still writes
    the header, the bext chunk and the frame count)."""
    data = np.ascontiguousarray(data)
    written = sf._snd.sf_write_raw(f._file, sf._ffi.from_buffer(data), data.nbytes)
    if written != data.nbytes:
        reason = sf._ffi.string(sf._snd.sf_strerror(f._file)).decode("utf-8", "replace")
        raise ExportError(f"cannot write audio file: {reason}", file=name,
                          allowed="a writable path with free space")


def read_bext(path: str | Path) -> dict:
    """Parse a WAV/RF64 file's ``bext`` chunk from its bytes (independently of libsndfile).

    :returns: ``description``, ``originator``, ``originator_reference``,
        ``origination_date``, ``origination_time``, ``time_reference`` (samples),
        ``version``, ``umid`` (hex), the five v2 loudness fields (``None`` when not given or
        version < 2) and ``coding_history``.
    :raises ExportError: not a RIFF/RF64 WAVE file, or no ``bext`` chunk.
    """
    name = str(path)
    with open(name, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise ExportError("not a WAV file", file=name, allowed="a RIFF/RF64 WAVE file")
        while True:
            hdr = f.read(8)
            if len(hdr) < 8:
                raise ExportError("the WAV file has no bext chunk", file=name)
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"bext":
                return _parse_bext(f.read(size))
            if cid == b"data" and size == 0xFFFFFFFF:
                raise ExportError("the WAV file has no bext chunk before its RF64 data", file=name)
            f.seek(size + (size & 1), 1)


def _parse_bext(body: bytes) -> dict:
    body = body.ljust(602, b"\0")

    def text(b: bytes) -> str:
        return b.split(b"\0", 1)[0].decode("utf-8", "replace")

    desc, orig, ref, date, time, lo, hi, version = struct.unpack_from("<256s32s32s10s8sIIH", body)
    umid = body[348:412]
    loud = struct.unpack_from("<5h", body, 412)
    out = {"description": text(desc), "originator": text(orig),
           "originator_reference": text(ref), "origination_date": text(date),
           "origination_time": text(time), "time_reference": lo | (hi << 32),
           "version": version, "umid": umid.hex(),
           "coding_history": body[602:].split(b"\0", 1)[0].decode("ascii", "replace")}
    for k, v in zip(_LOUDNESS_KEYS, loud):
        out[k] = v / 100.0 if version >= 2 and v != 0x7FFF else None
    return out

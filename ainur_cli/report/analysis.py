"""The numbers behind a render report: read a finished render and measure its audio.

Audio is ``(channels, samples)`` float32 at the manifest's ``sample_rate``. Loudness curves use
the project's BS.1770 K-weighting (:mod:`ainur_cli.mix.loudness`): momentary loudness
(400 ms windows) for the stems, short-term loudness (3 s windows, EBU R 128) for the mix.
Curves are plotted at the *end* of each window, as a loudness meter shows them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ainur_cli.errors import ExportError
from ainur_cli.mix.loudness import k_power_prefix, short_term_lufs

MOMENTARY_S = 0.4
SHORT_TERM_S = 3.0
FLOOR_LUFS = -70.0            # curves are clipped here (silence would be −inf)


@dataclass
class RenderData:
    """A finished render in memory.

    manifest:    the parsed manifest.json
    sample_rate: Hz
    mix:         (channels, samples) float32 mastered mix
    stems:       part name → stem file, in manifest order (read one at a time with
                 :meth:`stem`, so a long song's stems are never all in memory)
    """

    folder: Path
    manifest: dict
    sample_rate: int
    mix: np.ndarray
    stems: dict[str, Path] = field(default_factory=dict)

    def stem(self, name: str) -> np.ndarray:
        """Stem ``name`` as (channels, samples) float32."""
        return read_audio(self.stems[name])[0]

    @property
    def duration_s(self) -> float:
        return self.mix.shape[1] / self.sample_rate


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """A WAV/FLAC file as ((channels, samples) float32, sample_rate)."""
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, OSError, RuntimeError) as e:
        raise ExportError(f"cannot read audio for the report: {e}", file=str(path),
                          allowed="a finished render's WAV/FLAC files") from None
    return np.ascontiguousarray(data.T), int(sr)


def load_render(folder: str | Path) -> RenderData:
    """Read ``folder/manifest.json`` and every audio file it lists."""
    folder = Path(folder)
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"not a finished render ({e})", file=str(path),
                          allowed="a render folder holding manifest.json") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or not any(f.get("part") == "mix" for f in files):
        raise ExportError("the manifest lists no mix file", file=str(path), field="files",
                          allowed="a manifest written by `ainur render`")
    mix, stems = None, {}
    for f in files:
        if f.get("part") == "mix":
            mix, sr = read_audio(folder / f["path"])
        else:
            stems[str(f.get("part"))] = folder / f["path"]
    for path in stems.values():
        if not path.is_file():
            raise ExportError("a stem listed in the manifest is missing", file=str(path),
                              allowed="a complete render folder")
    return RenderData(folder, manifest, int(manifest.get("sample_rate") or sr), mix, stems)


def envelope(audio: np.ndarray, sample_rate: int, columns: int = 1200) -> tuple[np.ndarray, ...]:
    """Min/max envelope of the channel mean for drawing a waveform.

    :param audio: (channels, samples) float.
    :returns: (t_s, lo, hi), each (≤ columns,) float; ``t_s`` is each column's centre.
    """
    mono = np.asarray(audio, dtype=np.float32).mean(axis=0)
    n = mono.size
    if n == 0:
        z = np.zeros(0)
        return z, z, z
    cols = max(1, min(columns, n))
    edges = np.linspace(0, n, cols + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(mono, starts)
    hi = np.maximum.reduceat(mono, starts)
    t_s = (edges[:-1] + edges[1:]) / 2.0 / sample_rate
    return t_s, lo, hi


def spectrogram_db(audio: np.ndarray, sample_rate: int, *, n_fft: int = 2048,
                   max_frames: int = 1200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude spectrogram of the channel mean in dB relative to full scale.

    :param audio: (channels, samples) float.
    :returns: (t_s (frames,), f_hz (n_fft/2+1,), db (bins, frames)); a sine of amplitude 1
        reads about 0 dB at its frequency.
    """
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    hop = max(n_fft // 4, int(np.ceil((mono.size - n_fft) / max(1, max_frames - 1))))
    starts = np.arange(0, mono.size - n_fft + 1, hop)
    window = np.hanning(n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[starts] * window
    mag = np.abs(np.fft.rfft(frames, axis=1)).T * (2.0 / window.sum())
    db = 20.0 * np.log10(np.maximum(mag, 1e-6))
    t_s = (starts + n_fft / 2.0) / sample_rate
    f_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    return t_s, f_hz, db


def momentary_lufs(audio: np.ndarray, sample_rate: int, hop_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Momentary loudness (BS.1770 K-weighted, 400 ms windows, ungated) every ``hop_s``.

    :param audio: (channels ≤ 5, samples) float.
    :returns: (t_s at each window's end, LUFS clipped at FLOOR_LUFS); empty if shorter than 400 ms.
    """
    win = int(round(MOMENTARY_S * sample_rate))
    hop = max(1, int(round(hop_s * sample_rate)))
    n = audio.shape[1]
    if n < win:
        return np.zeros(0), np.zeros(0)
    starts = np.arange(0, n - win + 1, hop)
    s = k_power_prefix(audio, sample_rate, np.concatenate((starts, starts + win)))
    mean = (s[starts.size:] - s[: starts.size]) / win
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10.0 * np.log10(np.maximum(mean, 0.0))
    return (starts + win) / sample_rate, np.maximum(lufs, FLOOR_LUFS)


def short_term_curve(audio: np.ndarray, sample_rate: int, hop_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Short-term loudness (EBU R 128, 3 s windows) every ``hop_s``.

    :returns: (t_s at each window's end, LUFS clipped at FLOOR_LUFS); empty if shorter than 3 s.
    """
    lufs = short_term_lufs(audio, sample_rate, hop_s=hop_s)
    hop = max(1, int(round(hop_s * sample_rate)))
    win = int(round(SHORT_TERM_S * sample_rate))
    t_s = (np.arange(lufs.size) * hop + win) / sample_rate
    return t_s, np.maximum(lufs, FLOOR_LUFS)

"""The ``vocals`` stem: the lead melody's lyric notes sung by the offline voice.

A preset (or the spec's ``style:``) may hold a ``vocals:`` block:

```yaml
vocals:
  enabled: true     # default: true when the song has lyrics
  voice: tenor      # ainur_cli.voice.available_voices(): default, tenor, soprano
  double: false     # two double-tracked takes panned left/right
```

The vocal chain (EQ, compression, reverb) is the preset's ``mix.parts.vocals``; when a preset
gives none, :data:`DEFAULT_VOCAL_CHAIN` is used. The stem is mastered with the others (linked).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ainur_cli.compose.lyrics import parse_lyrics
from ainur_cli.compose.types import Composition
from ainur_cli.mix.settings import Compressor, EqBand, MixSettings, PartMix
from ainur_cli.source import Source, check_keys, get_bool, get_str
from ainur_cli.timeline import Timeline

VOCALS = "vocals"
DEFAULT_VOCAL_CHAIN = PartMix(
    highpass_hz=110.0,
    eq=(EqBand("peak", 300.0, -2.0, 1.0), EqBand("high_shelf", 8000.0, 2.0, 0.7)),
    compressor=Compressor(threshold_db=-20.0, ratio=3.0, attack_ms=5.0, release_ms=120.0),
    reverb_send=0.22, delay_send=0.08, gain_db=2.0,
)


def vocal_settings(raw: Mapping[str, Any], src: Source | None = None) -> dict:
    """Validate a style's ``vocals:`` block → ``{enabled, voice, double}``."""
    from ainur_cli.voice import available_voices

    src = src or Source("<preset>")
    raw = dict(raw or {})
    check_keys(raw, ("enabled", "voice", "double"), src, ("vocals",))
    return {
        "enabled": get_bool(raw, "enabled", src, ("vocals",), default=None),
        "voice": get_str(raw, "voice", src, ("vocals",), default="default",
                         choices=tuple(available_voices())),
        "double": get_bool(raw, "double", src, ("vocals",), default=False),
    }


def wants_vocals(settings: dict, composition: Composition, lead: str = "lead") -> bool:
    """Vocals are sung when enabled (default: when the lead carries lyrics)."""
    if settings["enabled"] is False:
        return False
    try:
        return any(n.lyric for n in composition.part(lead).notes)
    except KeyError:
        return False


def sung_notes(composition: Composition, timeline: Timeline, lead: str = "lead") -> list:
    """The lead's lyric notes as :class:`ainur_cli.voice.SungNote`, line by line."""
    from ainur_cli.voice import notes_for_line

    lines = {m["line_index"]: m["text"] for m in composition.metadata.get("lines", [])}
    by_line: dict[int, list] = {}
    for n in composition.part(lead).notes:
        if n.lyric is not None and n.line_index >= 0:
            by_line.setdefault(n.line_index, []).append(n)
    out = []
    for index in sorted(by_line):
        notes = by_line[index]
        line = parse_lyrics([lines.get(index, " ".join(n.lyric for n in notes if n.lyric))])[0]
        starts = [float(timeline.beat_to_seconds(n.start_beat)) for n in notes]
        ends = [float(timeline.beat_to_seconds(n.start_beat + n.duration_beats)) for n in notes]
        out += notes_for_line(line, starts, [e - s for s, e in zip(starts, ends)],
                              [n.pitch for n in notes], index)
    return out


def render_vocals(composition: Composition, timeline: Timeline, settings: dict, *, seed: int,
                  total_samples: int) -> np.ndarray:
    """The dry vocal stem, (2, total_samples) float32 at ``timeline.sample_rate``."""
    from ainur_cli.voice import sing

    notes = sung_notes(composition, timeline)
    return sing(notes, sample_rate=timeline.sample_rate, total_samples=total_samples,
                voice=settings["voice"], seed=seed, double=settings["double"])


def with_vocal_chain(mix: MixSettings) -> MixSettings:
    """The preset's mix settings with a vocal chain (the default one if it has none)."""
    if VOCALS in mix.parts:
        return mix
    from dataclasses import replace

    return replace(mix, parts={**mix.parts, VOCALS: DEFAULT_VOCAL_CHAIN})

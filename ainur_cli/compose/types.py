"""The symbolic song: parts made of notes, positions in quarter-note beats from song start.

Composition is the output of the composer and the input of every engine and of the MIDI
writer. Nothing here knows about seconds or samples: the :class:`ainur_cli.timeline.Timeline`
converts beats to samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    """One note.

    :param start_beat: onset in quarter-note beats from song start (>= 0).
    :param duration_beats: length in quarter-note beats (> 0).
    :param pitch: MIDI note number 0..127 (for drums: the GM percussion key).
    :param velocity: MIDI velocity 1..127.
    :param lyric: the syllable sung on this note (melody/lead parts only), e.g. "love" or
        "ly-" (``-``: the word goes on in the next syllable); "" continues the previous
        syllable (melisma); None for instruments.
    :param phones: ARPAbet phones of that syllable when known (may be empty).
    :param line_index: index of the lyric line (song-wide) this note belongs to, or -1.
    """

    start_beat: float
    duration_beats: float
    pitch: int
    velocity: int = 100
    lyric: str | None = None
    phones: tuple[str, ...] = ()
    line_index: int = -1


def running_text(lyric: str) -> str:
    """A note's lyric as it reads in running text: ``"ly-"`` (the word goes on) → ``"ly"``,
    ``"love"`` (a word's last syllable) → ``"love "``."""
    return lyric[:-1] if lyric.endswith("-") and len(lyric) > 1 else lyric + " "


@dataclass(frozen=True)
class Part:
    """One instrument part = one stem.

    :param name: stem name (``drums``, ``bass``, ``keys``, ``pad``, ``guitar``, ``lead``...).
    :param program: General MIDI program 0..127 (ignored for drums, which use bank 128).
    :param is_drums: True for the GM percussion channel (MIDI channel 10).
    :param channel: MIDI channel 0..15 (9 for drums).
    :param notes: notes sorted by (start_beat, pitch).
    """

    name: str
    program: int
    is_drums: bool
    channel: int
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class ChordEvent:
    """A chord symbol in time (for MIDI markers, reports and the melody composer).

    :param start_beat: onset in quarter-note beats; :param duration_beats: length.
    :param root_pc: pitch class 0..11 of the root; :param pitch_classes: chord tones, root first.
    :param symbol: display name, e.g. "Am7", "C/E".
    :param bass_pc: pitch class of the bass note of an inversion ("C/E" → 4); None in root
        position (the bass plays ``root_pc``).
    :param roman: the chord as the preset wrote it, e.g. "V7/V" ("" when unknown).
    """

    start_beat: float
    duration_beats: float
    root_pc: int
    pitch_classes: tuple[int, ...]
    symbol: str
    bass_pc: int | None = None
    roman: str = ""

    @property
    def bass(self) -> int:
        """The pitch class the bass plays: ``bass_pc`` for inversions, else the root."""
        return self.root_pc if self.bass_pc is None else self.bass_pc


@dataclass(frozen=True)
class Composition:
    """Everything the composer decided, in beats."""

    parts: tuple[Part, ...]
    chords: tuple[ChordEvent, ...] = ()
    metadata: dict = field(default_factory=dict, hash=False, compare=False)

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

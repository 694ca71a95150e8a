"""What every part composer sees: the style, key, seed, bars, sections and chords."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from ainur_cli.compose.harmony import ChordTrack
from ainur_cli.compose.meter import Bar, Bars
from ainur_cli.key import Key
from ainur_cli.style import Style


@dataclass(frozen=True)
class Context:
    """Read-only inputs shared by the part composers.

    :param sections: the placed sections (duck-typed ``SectionPlan``: index, name, kind,
        start_bar, bars, start_beat, end_beat, energy, lyrics).
    :param hook_sections: indexes of the sections where the style's hook part plays its hook.
    """

    style: Style
    key: Key
    seed: int
    bars: Bars
    sections: tuple
    chords: ChordTrack
    hook_sections: frozenset

    @property
    def final_bar(self) -> Bar:
        return self.bars[len(self.bars) - 1]

    def section_bars(self, section) -> Sequence[Bar]:
        return self.bars.span(section.start_bar, section.bars)

    def playing(self, part) -> Iterator[tuple[object, Bar, int]]:
        """``(section, bar, bar index in section)`` for every bar the part plays, skipping the
        song's final bar (the final hit) and, for the hook part, the hook sections."""
        last = self.final_bar.index
        for s in self.sections:
            if not part.plays_in(s) or (part.hook and s.index in self.hook_sections):
                continue
            for i, bar in enumerate(self.section_bars(s)):
                if bar.index != last:
                    yield s, bar, i


def velocity(base: int, energy: float, accent: float = 1.0) -> int:
    """A part's base velocity shaped by section energy (0.75x quiet … 1.05x full) and accent."""
    return int(max(1, min(127, round(base * (0.75 + 0.3 * energy) * accent))))


def pitch_in_octave(pc: int, octave: int, low_offset: int = 0) -> int:
    """The pitch of pitch class ``pc`` at or above ``12 * (octave + 1) + low_offset``."""
    low = 12 * (octave + 1) + low_offset
    return low + (pc - low) % 12

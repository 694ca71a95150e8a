"""From a validated spec to a render plan: timeline + sections with exact beat/sample ranges."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ainur_cli.spec import SongSpec, bpm_fraction
from ainur_cli.timeline import MeterChange, TempoChange, Timeline

if TYPE_CHECKING:  # the style type belongs to the preset layer, which imports spec
    from ainur_cli.style import Style


@dataclass(frozen=True)
class SectionPlan:
    """A section placed on the timeline.

    :param start_bar: 0-based bar where it starts; ``bars`` its length in bars.
    :param start_beat: / ``end_beat``: quarter-note beats from song start.
    :param start_sample: / ``end_sample``: exact sample range ``[start, end)`` at the render rate.
    :param start_s: / ``end_s``: the same in seconds (exact fractions as floats).
    :param lyrics: the section's non-empty lyric lines.
    """

    index: int
    name: str
    kind: str
    start_bar: int
    bars: int
    start_beat: Fraction
    end_beat: Fraction
    start_sample: int
    end_sample: int
    start_s: float
    end_s: float
    energy: float
    lyrics: tuple[str, ...]


@dataclass(frozen=True)
class RenderPlan:
    """Everything needed to compose and render: the spec, its style, timeline and sections."""

    spec: SongSpec
    style: "Style"
    timeline: Timeline
    sections: tuple[SectionPlan, ...]

    @property
    def sample_rate(self) -> int:
        return self.timeline.sample_rate

    @property
    def total_samples(self) -> int:
        return self.timeline.total_samples


def build_timeline(spec: SongSpec, sample_rate: int) -> Timeline:
    """The spec's tempo map and meters as a :class:`Timeline` (tempo map must be resolved)."""
    if spec.tempo_map is None:
        raise ValueError("tempo not resolved; apply the preset default first")
    meters = [MeterChange(bar - 1, num, den) for bar, num, den in (spec.meters or ((1, 4, 4),))]
    probe = Timeline([TempoChange(Fraction(0), Fraction(120))], meters, spec.total_bars, sample_rate)
    tempos = [TempoChange(probe.bar_to_beat(bar - 1), bpm_fraction(bpm)) for bar, bpm in spec.tempo_map]
    return Timeline(tempos, meters, spec.total_bars, sample_rate)


def place_sections(spec: SongSpec, timeline: Timeline) -> tuple[SectionPlan, ...]:
    """Consecutive sections with exact beat, second and sample ranges."""
    out = []
    bar = 0
    for i, s in enumerate(spec.sections):
        start_beat = timeline.bar_to_beat(bar)
        end_beat = timeline.bar_to_beat(bar + s.bars)
        out.append(SectionPlan(
            index=i, name=s.name, kind=s.kind, start_bar=bar, bars=s.bars,
            start_beat=start_beat, end_beat=end_beat,
            start_sample=timeline.beat_to_sample(start_beat),
            end_sample=timeline.beat_to_sample(end_beat),
            start_s=float(timeline.beat_to_seconds(start_beat)),
            end_s=float(timeline.beat_to_seconds(end_beat)),
            energy=s.energy, lyrics=s.lyrics,
        ))
        bar += s.bars
    return tuple(out)


def make_plan(spec: SongSpec, style: "Style") -> RenderPlan:
    """Timeline + sections for a spec whose tempo is resolved."""
    timeline = build_timeline(spec, spec.output.sample_rate)
    return RenderPlan(spec, style, timeline, place_sections(spec, timeline))

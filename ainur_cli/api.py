"""The public API: what the CLI, the DAW bridge and batch call.

``resolve_song`` validates a spec and its preset completely (nothing is rendered before it
succeeds); ``render_song`` runs the one-way pipeline spec → timeline → composition → engines →
mix/master → export and returns the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ainur_cli.errors import AinurError, PresetError
from ainur_cli.key import Key
from ainur_cli.plan import RenderPlan, build_timeline, make_plan
from ainur_cli.presets import LoadedPreset, load_preset
from ainur_cli.source import Source
from ainur_cli.spec import SongSpec, check_length, load_spec, with_defaults

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ResolvedSong:
    """A spec with its preset merged and every default filled in; ``spec_hash`` identifies it."""

    plan: RenderPlan
    preset: LoadedPreset
    spec_hash: str

    @property
    def spec(self) -> SongSpec:
        return self.plan.spec


@dataclass
class RenderResult:
    """What a render produced: its folder, the manifest, and stage timings in seconds."""

    out_dir: Path
    manifest: dict
    timings_s: dict = field(default_factory=dict)


def slug(text: str) -> str:
    """A folder-safe name: "Midnight Drive!" → "midnight-drive"."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:80] or "song"


def resolve_song(spec: SongSpec, *, presets_dirs: Sequence[str | Path] = ()) -> ResolvedSong:
    """Merge the preset under the spec, fill defaults, validate everything."""
    preset = load_preset(spec.preset, dict(spec.style) or None, spec.source, presets_dirs,
                         name_src=spec.source)
    style = preset.style
    spec = with_defaults(spec, style.tempo_bpm, style.time_signature)
    from ainur_cli.vocals import check_section_voices, own_rhythm_voices, vocal_settings

    voice_src = preset.source or Source(str(preset.file), error_cls=PresetError)
    voice = vocal_settings(style.vocals, voice_src)
    if spec.melody is not None:
        from ainur_cli.melody_file import with_melody

        spec = with_melody(spec, build_timeline(spec, spec.output.sample_rate),
                           own_rhythm=own_rhythm_voices(voice))
    _warn_unanswered(spec, voice)
    if spec.key is None:
        spec = replace(spec, key=_key_of_given_melody(spec) or style.key)
    check_length(spec)
    if spec.output.parts is not None:
        known = list(style.parts)
        if voice["enabled"] is not False:
            known.append("vocals")
        for name in spec.output.parts:
            if name not in known:
                raise spec.source.error(("output", "parts"), "names a part the preset does not have",
                                        name, ", ".join(known))
    if spec.restyle is not None:
        rendered = list(spec.output.parts or [*style.parts, "vocals"])
        for name, _ in spec.restyle.prompts:
            if name not in rendered:
                raise spec.source.error(("restyle", "prompts", name),
                                        "names a part that is not rendered", name, ", ".join(rendered))
    plan = make_plan(spec, style)
    check_section_voices(voice, [s.name for s in plan.sections], voice_src)
    return ResolvedSong(plan, preset, spec_hash(spec, preset))



def _warn_unanswered(spec: SongSpec, voice: dict) -> None:
    """Warn about each section whose ``harmony_lyrics`` nobody sings: no written harmony
    (the melody's harmony track, a DAW project's) and no composed harmony that answers the
    lead with them (``vocals.harmony`` with ``harmony_rhythm`` lead or echo)."""
    from ainur_cli.vocals import answers_sung

    if spec.melody is not None and spec.melody.written_harmony or answers_sung(voice):
        return
    if not voice["harmony"]:
        why = ("the song has no harmony to sing them: neither a written harmony track "
               "(melody.harmony_track, --harmony-track, a DAW project's harmony track) nor "
               "vocals.harmony (whose voices answer the lead with them)")
    else:  # harmony_rhythm: chords
        why = ("its chord pads (vocals.harmony_rhythm: chords) hold through the lead's "
               "rests; harmony_rhythm lead or echo answers the lead with them")
    for s in spec.sections:
        if s.harmony_lyrics:
            log.warning("section %r: its harmony_lyrics are not sung: %s", s.name, why)


def _key_of_given_melody(spec: SongSpec) -> Key | None:
    """For a spec that names no key: the key that fits the vocal notes it gives (a DAW
    session's or its melody file's, :func:`ainur_cli.compose.song.session_melody`), so the
    accompaniment does not clash with them; None when it gives none."""
    from ainur_cli.compose.song import session_melody
    from ainur_cli.key import key_of_notes, parse_key

    estimate = key_of_notes([(p, b - a) for a, b, p in session_melody(spec.sections)])
    if estimate is None:
        return None
    log.info("the key, %s, is estimated from the vocal melody's notes (nothing names a key; "
             "set key: or --key to choose another)", estimate)
    return parse_key(estimate)


def spec_hash(spec: SongSpec, preset: LoadedPreset) -> str:
    """sha256 over everything that decides the audio (not the output folder)."""
    data = {
        "title": spec.title, "preset": spec.preset, "seed": spec.seed,
        "key": spec.key.name if spec.key else None, "tempo_map": spec.tempo_map,
        "meters": spec.meters, "sections": [_section_key(s) for s in spec.sections],
        "output": {k: v for k, v in asdict(spec.output).items() if k != "dir"},
        "style": preset.raw,
        "restyle": asdict(spec.restyle) if spec.restyle else None,
    }
    if spec.melody is not None and spec.melody.harmony_voices:  # a harmony in its own rhythm
        data["harmony_voices"] = spec.melody.harmony_voices
    if spec.melody is not None and spec.melody.harmony_lines:  # a harmony with its own words
        data["harmony_lines"] = spec.melody.harmony_lines
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _section_key(section) -> dict:
    """A section as hashed: lyric lines in their pinned form (and with their notes), so that
    two DAW sessions whose lyrics differ only in timing (``LyricText.key``) hash differently."""
    d = asdict(section)
    d["lyrics"] = [line.key() if hasattr(line, "key") else line for line in section.lyrics]
    if not d["harmony_lyrics"]:
        del d["harmony_lyrics"]  # as hashed before sections had them
    return d


def default_out_dir(spec: SongSpec) -> Path:
    """``output.dir`` (relative to the spec file) or ``renders/<spec file stem or title>``."""
    if spec.output.dir:
        d = Path(spec.output.dir).expanduser()
        if not d.is_absolute() and spec.file and not spec.file.startswith("<"):
            d = Path(spec.file).resolve().parent / d
        return d
    stem = Path(spec.file).stem if spec.file and not spec.file.startswith("<") else spec.title
    return Path("renders") / slug(stem)


def render_file(path: str | Path, *, overrides: Mapping[str, Any] | None = None,
                **kwargs: Any) -> RenderResult:
    """Load ``song.yaml`` (with CLI overrides) and render it; see :func:`render_song`."""
    return render_song(load_spec(path, overrides), **kwargs)


def render_song(
    spec: SongSpec,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    new_take: bool = False,
    presets_dirs: Sequence[str | Path] = (),
    soundfont: str | Path | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render a song: stems, mastered mix, MIDI and manifest, written atomically.

    :param out_dir: target folder (default :func:`default_out_dir`).
    :param force: replace a finished render there; ``new_take``: write ``<dir>-takeN``.
    :param soundfont: a .sf2 path or ``fluidr3`` (overrides the spec's ``output.soundfont``).
    :param workers: CPU cores the render may use: processes for the stems, and two threads
        (else one) for mastering and export. 1 keeps it on one core, as batch workers do
        (one job per core). The files are identical for any value.
    :param progress: called with ``(stage, fraction 0..1)``.
    :param cancel: polled between stages; returning True aborts with nothing written.
    :raises AinurError: on any invalid input or unwritable output, before writing anything.
    """
    from ainur_cli.render import run_pipeline  # heavy imports (numpy, scipy) only here

    resolved = resolve_song(spec, presets_dirs=presets_dirs)
    target = Path(out_dir) if out_dir is not None else default_out_dir(resolved.spec)
    return run_pipeline(resolved, target, force=force, new_take=new_take,
                        soundfont=soundfont, workers=workers, progress=progress, cancel=cancel)


class Cancelled(AinurError):
    """A render was cancelled (by the user or a bridge request); nothing was written."""


def manifest_json(manifest: dict) -> str:
    """The manifest as the stable JSON text written to ``manifest.json``."""
    return json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n"

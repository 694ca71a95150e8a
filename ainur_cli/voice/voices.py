"""The voice presets: which espeak-ng speaker is analysed and how its envelope, pitch
gestures and breath are shaped into a singer. Add a voice by adding a :class:`VoiceSpec`."""

from __future__ import annotations

from dataclasses import dataclass

from ainur_cli.errors import VoiceError


@dataclass(frozen=True)
class VoiceSpec:
    """One singing voice.

    :param name: preset name (what ``sing(voice=...)`` takes).
    :param description: one line for ``available_voices()``.
    :param espeak_voice: espeak-ng voice+variant whose speech is analysed, e.g. ``"en-us+m3"``.
    :param espeak_pitch: espeak pitch parameter 0..99 of the (monotone) analysed speech.
    :param rate_wpm: espeak speaking rate; sets the natural consonant lengths.
    :param read_text: analyse espeak reading each phrase's words as text (its own sentence
        reading: reduced function words, its vowels and lengths) rather than the phoneme
        string built from the dictionary; a word espeak says with another number of
        syllables than its notes goes in as its phoneme string, and a phrase whose vowels
        still do not pair with its syllables is spoken from its phoneme string.
    :param formant_scale: spectral-envelope frequency warp (>1 raises formants: smaller vocal tract).
    :param tilt_db_per_khz: spectral tilt added to the envelope (negative = darker).
    :param breath: 0..1, how much aspiration noise rides on the voiced sound above ~2 kHz.
    :param vibrato_rate_hz: vibrato rate; :param vibrato_depth_cents: peak deviation.
    :param vibrato_delay_s: how long a note is held straight before vibrato fades in.
    :param portamento_s: the longest glide into a new pitch (wide leaps); narrower steps
        glide faster (:mod:`ainur_cli.voice.pitch`).
    :param drift_cents: size of the slow random pitch wander (keeps held notes from sounding
        synthetic).
    :param gain_db: output level trim.
    :param centre_midi: middle of the voice's comfortable register (MIDI). A melody is sung
        in the octave that puts its median pitch nearest this (see :func:`octave_shift`).
    :param lowest_midi: the lowest note an octave shift may take the melody to (MIDI; the
        melody as written is always allowed).
    """

    name: str
    description: str
    espeak_voice: str
    espeak_pitch: int
    rate_wpm: int = 165
    read_text: bool = False
    formant_scale: float = 1.0
    tilt_db_per_khz: float = 0.0
    breath: float = 0.15
    vibrato_rate_hz: float = 5.5
    vibrato_depth_cents: float = 22.0
    vibrato_delay_s: float = 0.28
    portamento_s: float = 0.065
    drift_cents: float = 5.0
    gain_db: float = 0.0
    centre_midi: int = 60
    lowest_midi: int = 28


VOICES: dict[str, VoiceSpec] = {
    v.name: v for v in (
        VoiceSpec("tenor", "male pop tenor: espeak en-us klatt4, warm, light late vibrato",
                  espeak_voice="en-us+klatt4", espeak_pitch=85, read_text=True, formant_scale=0.98,
                  tilt_db_per_khz=-0.4, breath=0.12, vibrato_rate_hz=5.4,
                  vibrato_depth_cents=22.0, centre_midi=53),
        VoiceSpec("soprano", "female pop soprano: espeak en-us f2, raised formants, breathy, "
                  "faster vibrato", espeak_voice="en-us+f2", espeak_pitch=40,
                  formant_scale=1.10, tilt_db_per_khz=0.3, breath=0.3, vibrato_rate_hz=5.9,
                  vibrato_depth_cents=25.0, vibrato_delay_s=0.22, portamento_s=0.0585,
                  centre_midi=67),
        VoiceSpec("baritone", "male baritone: espeak en-us m6 reading the words, darker and "
                  "rounder than the tenor, slower vibrato", espeak_voice="en-us+m6",
                  espeak_pitch=85, read_text=True, formant_scale=0.94, tilt_db_per_khz=-0.8,
                  breath=0.10, vibrato_rate_hz=5.1, vibrato_depth_cents=20.0,
                  vibrato_delay_s=0.30, portamento_s=0.07, centre_midi=48, lowest_midi=40),
        VoiceSpec("alto", "female alto: espeak en-us f2 (the soprano's speaker), darker and "
                  "warmer, a lower register", espeak_voice="en-us+f2", espeak_pitch=40,
                  formant_scale=1.10, tilt_db_per_khz=-1.0, breath=0.28, vibrato_rate_hz=5.7,
                  vibrato_depth_cents=24.0, vibrato_delay_s=0.24, portamento_s=0.06,
                  centre_midi=62),
    )
}
DEFAULT_VOICE = "tenor"


def get_voice(name: str) -> VoiceSpec:
    """A preset by name (``"default"`` is :data:`DEFAULT_VOICE`)."""
    key = DEFAULT_VOICE if name == "default" else name
    if key not in VOICES:
        raise VoiceError("unknown voice", field="voice", value=name,
                         allowed=", ".join(["default", *VOICES]))
    return VOICES[key]


def octave_shift(pitches_midi, spec: VoiceSpec, low_midi: int = 28, high_midi: int = 96) -> int:
    """Semitones (a multiple of 12) the voice adds to a melody so that it sits in its register,
    as a singer takes a guide melody an octave down or up: the octave whose median pitch is
    nearest ``spec.centre_midi`` (no shift on a tie), kept inside ``low_midi..high_midi``.
    The melody's shape and key are unchanged; the shift applies to the whole song at once.

    Measured (docs/voice.md): F0 above about 350 Hz costs the recogniser most of its words, so
    the tenor takes a melody written around E4 an octave down (E3, about 165 Hz). Below about
    70 Hz the resynthesis clicks (14 clicks/s and 90 % of the pitch within 50 cents on the
    example song two octaves down), so a shift never takes a note under the voice's
    ``lowest_midi``.
    """
    pitches = sorted(int(p) for p in pitches_midi)
    if not pitches:
        return 0
    median = pitches[len(pitches) // 2]
    low_midi = max(low_midi, spec.lowest_midi)
    best = 0
    for k in (-12, 12, -24, 24):  # on a tie the smaller shift wins
        if not (low_midi <= pitches[0] + k and pitches[-1] + k <= high_midi):
            continue
        if abs(median + k - spec.centre_midi) < abs(median + best - spec.centre_midi):
            best = k
    return best


def available_voices() -> dict[str, str]:
    """Voice name → one-line description (``default`` included)."""
    out = {"default": f"same as '{DEFAULT_VOICE}'"}
    out.update({v.name: v.description for v in VOICES.values()})
    return out

"""Benchmark of the singing voice (issue 3): intelligibility, pitch, timing, clicks, speed.

    python bench/vocals_bench.py                      # 120/160/240 BPM, voice "default"
    python bench/vocals_bench.py --tempos 120 --voices tenor,soprano
    python bench/vocals_bench.py --set warp.transition_spread=1.0 --set formant_motion=0

Sixteen lines of varied lyrics get a deterministic melody (stressed syllables one beat,
others half a beat, a bar-aligned start per line, a melisma at some line ends). The dry vocal
is measured with tools independent of the voice:

* WER: pocketsphinx (its own English model and LM) per line, fresh decoder per clip, a
  -60 dBFS noise floor added; the spoken baseline is espeak-ng reading the same lines, and
  the voice's own phoneme strings (what it analyses) spoken monotone at speech rate show
  what the phonemes alone cost before any singing. The *duration bound* is that speech
  changed only in its syllable lengths, which become the sung notes' (vowels held by Praat's
  PSOLA at speech pitch, or syllables shortened where the notes are faster than speech): what
  the note lengths alone cost this recogniser.
* pitch: Praat autocorrelation F0 (parselmouth; harvest also printed) of the rendered
  vocal vs the score, voiced frames inside notes.
* vowel onsets: pocketsphinx forced alignment of each sung line (phone level) vs note starts
  (the meter itself is checked on the spoken baseline against espeak's own phoneme times);
  and, more precisely where it applies, the voicing onset (the 70-700 Hz band's rise) of
  syllables after an unvoiced consonant or a rest (checked on espeak's speech after s/sh/f/th,
  where it reads about 16 ms after espeak's vowel boundary: voicing builds up there).
* clicks: second-difference spikes (> 8x the local 20 ms RMS and above -50 dBFS) per second.
* held vowels as the acoustic model hears them (a second meter, free of the word LM): a
  pocketsphinx phone-loop decode (its English phone LM) labels every 10 ms frame; of the
  frames in the middle of notes >= 0.4 s, the share labelled noise/silence (+SPN+, +NSN+,
  SIL) and the share labelled as the note's own vowel.
* held-vowel motion: mean frame-to-frame change of the cepstral envelope (dB per 10 ms) in
  the middle of vowels longer than 0.4 s (0 = frozen).
* de-esser: the default vocal chain (dry) with and without its de-esser on the rendered vocal:
  the loud fricatives' 6-20 kHz against their 1-4 kHz, vowels' 6-20 kHz, everything below 5 kHz.
* air: the 11-16 kHz band against the 1-4 kHz band (long-term spectrum of the frames where
  it sings, and of the frames where 5.5-11 kHz leads 1-4 kHz: the fricatives); a sung voice
  has it 25-45 dB below over a song (voice/air.py).
* speed: wall time of sing() from a cold phrase cache, as a real-time factor.

``--song SPEC`` measures the product's own vocal instead: the song composed (for each of
``--song-seeds``) by the melody composer, its lead sung dry, WER per lyric line as above,
with the composer's note lengths in seconds, Praat's pitch and clicks. ``--song SPEC
--song-presets all`` sets the spec's lyrics by every preset at the preset's own tempo, meter
and key, and prints the same per preset and seed, the means and the runs under the 95 %
pitch bar. ``--bound-speakers en-us+klatt4,en-us+f2`` prints the duration bound of each
espeak speaker at ``--tempos``: its reading of the lyrics spoken, held to the notes, and
held and put on the melody (``--bound-runs`` runs each: Praat's PSOLA has no seed).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainur_cli.voice import SungNote, sing, sung_octave_shift  # noqa: E402
from ainur_cli.voice.analysis import analyse_phrase  # noqa: E402
from ainur_cli.voice.espeak import ESPEAK_RATE, speak_phonemes, speak_text  # noqa: E402
from ainur_cli.voice.phonemes import ARPABET_TO_ESPEAK, base, is_vowel, word_syllables  # noqa: E402
from ainur_cli.voice.render import RenderOptions, phoneme_text  # noqa: E402
from ainur_cli.voice.score import phrases, sung_syllables  # noqa: E402
from ainur_cli.voice.voices import get_voice  # noqa: E402

LYRICS = [
    "I walked along the river in the rain",
    "and every light was shining on my face",
    "you told me that the summer would not end",
    "but all the leaves are falling down again",
    "hold me closer till the morning comes",
    "we were young and we were running free",
    "the city sleeps beneath a silver moon",
    "I can hear your heart beat in the dark",
    "twenty one candles burning on the cake",
    "don't you know that I will wait for you",
    "open the window let the music play",
    "stars are shining brighter than before",
    "we will dance until the night is gone",
    "nothing ever lasts but love remains",
    "take my hand and never let me go",
    "sing it louder one more time tonight",
]
SR = 44100
NUMBERS = {"21": "twenty one"}
SCALE = [0, 2, 4, 5, 7, 9, 11]
TRANSPOSE = [0]
FAST = [False]


def words_of(line: str) -> list[str]:
    return re.findall(r"[a-z']+", line.lower())


def make_notes(tempo_bpm: float, seed: int = 1, low_midi: int | None = None) -> tuple[list[SungNote], list[tuple[float, float]], float]:
    """A deterministic melody for LYRICS: (notes, per-line (start_s, end_s), song length s)."""
    beat = 60.0 / tempo_bpm
    low_midi = 55 + TRANSPOSE[0] if low_midi is None else low_midi
    rng = np.random.default_rng(seed)
    notes: list[SungNote] = []
    spans = []
    bar = 1.0  # first line starts at beat 4 (one bar of silence)
    pitches = [low_midi + 12 * (i // 7) + SCALE[i % 7] - SCALE[low_midi % 12 in SCALE and 0] for i in range(14)]
    pitches = [p for p in pitches if p <= low_midi + 17]
    for li, line in enumerate(LYRICS):
        t_beat = bar * 4
        sylls = [(w, k, s) for w in words_of(line) for k, s in enumerate(word_syllables(w))]
        pos = int(rng.integers(2, len(pitches) - 4))
        line_start = t_beat * beat
        for j, (w, k, s) in enumerate(sylls):
            d_beats = 1.0 if s.stress == 1 and len(word_syllables(w)) > 1 or (w in ("love", "rain", "night", "free", "moon", "dark", "go")) else 0.5
            if j == len(sylls) - 1:
                d_beats = 2.0
            pos = int(np.clip(pos + rng.choice([-1, 0, 1, 1, 2] if j < len(sylls) / 2 else [-2, -1, -1, 0, 1]), 0, len(pitches) - 1))
            dur = d_beats * beat * (0.92 if d_beats >= 1 else 1.0)
            last = j == len(sylls) - 1
            melisma = last and li % 3 == 0
            text = w if k == 0 else "-" + w
            if melisma:
                half = dur / 2
                notes.append(SungNote(t_beat * beat, half, pitches[pos], text, w, (), li, k == 0, False))
                notes.append(SungNote(t_beat * beat + half, half, pitches[max(0, pos - 1)], "", w, (), li, False, True))
            else:
                notes.append(SungNote(t_beat * beat, dur, pitches[pos], text, w, (), li, k == 0, last))
            t_beat += d_beats
        spans.append((line_start, t_beat * beat))
        bar = int(np.ceil((t_beat + 1.0) / 4.0))
    total = (bar * 4 + 2) * beat
    return notes, spans, total


# --- meters -----------------------------------------------------------------------------

def to16k(x: np.ndarray, sr: int) -> np.ndarray:
    from fractions import Fraction
    r = Fraction(16000, sr)
    return resample_poly(x, r.numerator, r.denominator)


def _pcm(x16: np.ndarray, seed: int = 0) -> bytes:
    noise = 10 ** (-60 / 20) * np.random.default_rng(seed).standard_normal(x16.size)
    return (np.clip(x16 + noise, -1, 1) * 32767).astype(np.int16).tobytes()


def recognise(x16: np.ndarray) -> list[str]:
    from pocketsphinx import Decoder
    d = Decoder(samprate=16000, loglevel="FATAL")
    d.start_utt()
    d.process_raw(_pcm(x16), full_utt=True)
    d.end_utt()
    h = d.hyp()
    return [w for w in (h.hypstr.split() if h else []) if not w.startswith("<")]


def edit_distance(a: list[str], b: list[str]) -> int:
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(b)]


def ref_words(line: str) -> list[str]:
    out = []
    for w in line.lower().split():
        out.extend(NUMBERS.get(w, w).split())
    return out


VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


def vowel_onsets(x16: np.ndarray, words: list[str]) -> list[list[float]] | None:
    """Forced alignment: per word, the start (s) of each of its vowel phones."""
    from pocketsphinx import Decoder
    d = Decoder(samprate=16000, bestpath=False, loglevel="FATAL")
    try:
        d.set_align_text(" ".join(words))
        pcm = _pcm(x16)
        d.start_utt(); d.process_raw(pcm, full_utt=True); d.end_utt()
        d.set_alignment()
        d.start_utt(); d.process_raw(pcm, full_utt=True); d.end_utt()
        return [[p.start * 0.01 for p in w if p.name in VOWELS] for w in d.get_alignment()
                if not w.name.startswith("<") and w.name != "sil"]
    except Exception:  # noqa: BLE001 - a failed alignment is reported as missing
        return None


ESPEAK_TO_ARPABET = {v: k for k, v in ARPABET_TO_ESPEAK.items()} | {"@": "AH", "3": "ER", "i": "IY"}
NOISE_PHONES = {"+SPN+", "+NSN+", "SIL"}


def phone_labels(x16: np.ndarray) -> list[tuple[str, int, int]]:
    """Phone-loop decode (no words, no word LM): (phone, first frame, last frame), 10 ms frames."""
    from pocketsphinx import Decoder, get_model_path
    d = Decoder(samprate=16000, allphone=str(Path(get_model_path()) / "en-us-phone.lm.bin"),
                lw=2.0, beam=1e-20, pbeam=1e-20, loglevel="FATAL")
    d.start_utt(); d.process_raw(_pcm(x16), full_utt=True); d.end_utt()
    return [(sg.word, sg.start_frame, sg.end_frame) for sg in d.seg()]


def held_frame_labels(x16: np.ndarray, held: list[tuple[float, float, str]]) -> np.ndarray:
    """Counts (frames, noise, own vowel) over the middle of held notes: ``held`` gives each
    note's (start_s, end_s) in the clip and its vowel (ARPAbet)."""
    n = int(x16.size / 160) + 2
    lab = np.full(n, "SIL", dtype=object)
    for ph, a, b in phone_labels(x16):
        lab[a:b + 1] = ph
    out = np.zeros(3)
    for a, b, vowel in held:
        seg = lab[int((a + 0.1) * 100):int((b - 0.1) * 100)]
        out += (seg.size, sum(x in NOISE_PHONES for x in seg), sum(x == vowel for x in seg))
    return out


UNVOICED_ONSETS = {"p", "t", "k", "f", "T", "s", "S", "h", "tS"}


def low_band_db(x: np.ndarray, sr: int) -> np.ndarray:
    """Level (dB) of the 70-700 Hz band (F0 and F1: voicing) per sample, zero-phase band-pass
    and a centred 5 ms mean square: unvoiced consonants and breaths have almost none of it."""
    import scipy.signal as ss
    y = ss.sosfiltfilt(ss.butter(4, (70, 700), "bandpass", fs=sr, output="sos"), x)
    w = int(0.005 * sr)
    return 10 * np.log10(np.convolve(y * y, np.ones(w) / w, mode="same") + 1e-14)


def voicing_onset(level_db: np.ndarray, sr: int, t_s: float) -> float | None:
    """Where voicing starts near ``t_s`` (s): the start of the rise that reaches the vowel's
    steady low-band level (within 6 dB) and stays there, looked for from 80 ms before to 60 ms
    after; None without a clear rise (15 dB above the level before it)."""
    a, b = int((t_s - 0.08) * sr), int((t_s + 0.06) * sr)
    if a < 0 or b > level_db.size:
        return None
    steady = float(np.median(level_db[int((t_s + 0.02) * sr):b]))
    if steady - level_db[a:int(t_s * sr)].min() < 15.0:
        return None
    above = level_db[a:b] >= steady - 6.0
    j = int((t_s + 0.02) * sr) - a
    while j > 0 and above[j - 1]:
        j -= 1
    return (a + j) / sr


def voicing_onset_errors(y: np.ndarray, sr: int, notes: list[SungNote]) -> list[float]:
    """Signed ms from each note start to where its vowel's voicing starts, for the syllables
    where that is unambiguous: after an unvoiced consonant (s, t, k, ...; the aspiration of a
    stop is sung before the beat) or vowel-initial after a rest of 0.1 s or more."""
    level = low_band_db(y, sr)
    out = []
    prev_end = -1.0
    for syl in sung_syllables(notes):
        n = syl.notes[0]
        onset = syl.phones.onset
        if (onset and onset[-1] in UNVOICED_ONSETS) or (not onset and n.start_s - prev_end >= 0.1):
            t = voicing_onset(level, sr, n.start_s)
            if t is not None:
                out.append((t - n.start_s) * 1000)
        prev_end = syl.notes[-1].end_s
    return out


def spoken_voicing_check(espeak_voice: str = "en-us+klatt4") -> list[float]:
    """The voicing meter on espeak's speech: ms from espeak's own vowel boundary after s, S,
    f, T to the voicing onset it reads (the meter's definition of onset, checked)."""
    out = []
    for line in LYRICS:
        x, ev = speak_text(line, voice=espeak_voice, rate_wpm=175)
        level = low_band_db(x, ESPEAK_RATE)
        names = [base(e.name) for e in ev]
        for k in range(1, len(ev)):
            if is_vowel(names[k]) and names[k - 1] in {"s", "S", "f", "T"}:
                t = voicing_onset(level, ESPEAK_RATE, ev[k].start / ESPEAK_RATE)
                if t is not None:
                    out.append((t - ev[k].start / ESPEAK_RATE) * 1000)
    return out


def match_onsets(got: list[list[float]] | None, want: list[list[float]]) -> list[float]:
    """Signed errors (ms) for words whose aligned vowel count equals their syllable count."""
    if not got or len(got) != len(want):
        return []
    out = []
    for g, w in zip(got, want):
        if len(g) == len(w):
            out.extend((np.array(g) - np.array(w)) * 1000)
    return out


def clicks_per_s(x: np.ndarray, sr: int) -> float:
    d2 = np.abs(np.diff(x, 2))
    win = int(0.02 * sr)
    local = np.sqrt(np.convolve(d2 ** 2, np.ones(win) / win, mode="same")) + 1e-12
    spikes = (d2 > 8 * local) & (d2 > 10 ** (-50 / 20))
    idx = np.flatnonzero(spikes)
    events = 0 if idx.size == 0 else 1 + int(np.sum(np.diff(idx) > int(0.005 * sr)))
    active = np.sum(np.abs(x) > 1e-3) / sr
    return events / max(active, 1e-9)


def air_ratios_db(x: np.ndarray, sr: int) -> tuple[float, float]:
    """(11-16 kHz over 1-4 kHz in the frames that sound, the same in fricative frames), dB:
    2048-sample Hann frames, half overlap."""
    n, hop = 2048, 1024
    idx = np.arange(n)[None, :] + hop * np.arange((x.size - n) // hop)[:, None]
    power = np.abs(np.fft.rfft(x[idx] * np.hanning(n), axis=1)) ** 2
    f = np.fft.rfftfreq(n, 1.0 / sr)
    mid, top, air = (power[:, (f >= lo) & (f < hi)].sum(axis=1)
                     for lo, hi in ((1000, 4000), (5500, 11000), (11000, 16000)))
    sounds = (mid + top) > 1e-4 * (mid + top).max()
    fric = sounds & (top > mid)
    return (float(10 * np.log10(air[sounds].sum() / mid[sounds].sum())),
            float(10 * np.log10(air[fric].sum() / mid[fric].sum())))


def deesser_effect_db(y2: np.ndarray, sr: int) -> tuple[float, float, float, float]:
    """The default vocal chain (dry: no reverb or delay) with and without its de-esser on the
    stereo vocal ``y2``: (6-20 kHz against 1-4 kHz in loud fricative frames without it, the
    same with it, the 6-20 kHz change in vowel frames, the change below 5 kHz over all loud
    frames), dB; 1024-sample Hann frames, half overlap, "loud" within 30 dB of the 95th
    percentile frame, fricative where 6-20 kHz leads 1-4 kHz, vowel where 1-4 kHz leads 30x."""
    from ainur_cli.mix.mixer import process_stem
    from ainur_cli.mix.settings import MixSettings
    from ainur_cli.vocals import DEFAULT_VOCAL_CHAIN

    chain = dataclasses.replace(DEFAULT_VOCAL_CHAIN, reverb_send=0.0, delay_send=0.0)
    outs = [process_stem(y2, dataclasses.replace(chain, deesser=d), MixSettings(), sr, 120.0)[0]
            for d in (None, chain.deesser)]
    n, hop = 1024, 512
    bands = []
    for x in outs:
        idx = np.arange(n)[None, :] + hop * np.arange((x.size - n) // hop)[:, None]
        power = np.abs(np.fft.rfft(x.astype(np.float64)[idx] * np.hanning(n), axis=1)) ** 2
        f = np.fft.rfftfreq(n, 1.0 / sr)
        bands.append([power[:, (f >= lo) & (f < hi)].sum(axis=1)
                      for lo, hi in ((1000, 4000), (6000, 20000), (0, 5000), (0, sr / 2))])
    (mid0, high0, low0, all0), (mid1, high1, low1, _) = bands
    level = 10 * np.log10(all0 + 1e-30)
    loud = level > np.percentile(level[level > level.max() - 80], 95) - 30
    fric, vowel = loud & (high0 > mid0), loud & (mid0 > 30 * high0)

    def db(a, b, mask):
        return float(10 * np.log10(a[mask].sum() / b[mask].sum()))

    return db(high0, mid0, fric), db(high1, mid1, fric), db(high1, high0, vowel), db(low1, low0, loud)


def pitch_errors(y: np.ndarray, sr: int, notes: list[SungNote], tracker: str = "praat"
                 ) -> tuple[np.ndarray, list[float]]:
    """Cents error of voiced frames inside notes: Praat's autocorrelation pitch (its own
    voicing decision) or pyworld harvest (which also calls most consonant frames voiced)."""
    x = resample_poly(y, 1, 2).astype(np.float64) if sr == 44100 else y.astype(np.float64)
    fs = 22050 if sr == 44100 else sr
    if tracker == "praat":
        import parselmouth
        p = parselmouth.Sound(x, fs).to_pitch_ac(time_step=0.005, pitch_floor=75.0, pitch_ceiling=1000.0)
        f0, t = p.selected_array["frequency"], p.xs()
    else:
        import pyworld
        f0, t = pyworld.harvest(x, fs, f0_floor=70.0, f0_ceil=1000.0, frame_period=5.0)
    errs, note_errs = [], []
    for n in notes:
        m = (t >= n.start_s) & (t < n.end_s) & (f0 > 0)
        if not m.any():
            continue
        ref = 440.0 * 2 ** ((n.midi_pitch - 69) / 12)
        e = 1200 * np.log2(f0[m] / ref)
        errs.append(e)
        note_errs.append(float(np.median(e)))
    return np.concatenate(errs) if errs else np.zeros(0), note_errs


def held_vowel_motion(y: np.ndarray, sr: int, notes: list[SungNote]) -> float:
    """Mean |Δ cepstral envelope| (dB per 10 ms) in the middle 60 % of notes >= 0.4 s."""
    import pyworld
    x = resample_poly(y, 1, 2).astype(np.float64) if sr == 44100 else y.astype(np.float64)
    fs = 22050
    vals = []
    for n in notes:
        if n.duration_s < 0.4:
            continue
        a, b = n.start_s + 0.2 * n.duration_s, n.end_s - 0.2 * n.duration_s
        seg = x[int(a * fs):int(b * fs)]
        if seg.size < 2048:
            continue
        f0, t = pyworld.dio(seg, fs, frame_period=10.0, f0_floor=70.0, f0_ceil=1000.0)
        f0 = pyworld.stonemask(seg, f0, t, fs)
        if (f0 > 0).sum() < 5:
            continue
        sp = pyworld.cheaptrick(seg, np.where(f0 > 0, f0, np.median(f0[f0 > 0])), t, fs)
        cep = np.fft.irfft(10 * np.log10(sp + 1e-12), axis=1)[:, 1:25]
        vals.append(float(np.mean(np.sqrt(np.sum(np.diff(cep, axis=0) ** 2, axis=1)))))
    return float(np.mean(vals)) if vals else float("nan")


# --- runs -------------------------------------------------------------------------------

def spoken_baseline(espeak_voice: str = "en-us", rate_wpm: int = 175,
                    lines: list[str] | None = None) -> dict:
    """espeak-ng reading ``lines`` (default: LYRICS) as text: WER, clicks, onset-meter error."""
    edits = words = 0
    clicks, onset_err = [], []
    for line in LYRICS if lines is None else lines:
        x, ev = speak_text(line, voice=espeak_voice, rate_wpm=rate_wpm)
        x16 = to16k(x, ESPEAK_RATE)
        ref = ref_words(line)
        edits += edit_distance(ref, recognise(x16))
        words += len(ref)
        clicks.append(clicks_per_s(resample_poly(x, 2, 1), SR))
        got = vowel_onsets(x16, ref)
        truth = [e.start / ESPEAK_RATE for e in ev if e.name.lstrip("',%=")[:1] in "aeiouAEIOUV03@"]
        flat = [v for w in got for v in w] if got else []
        if len(flat) == len(truth):
            onset_err.extend(np.abs(np.array(flat) - np.array(truth)) * 1000)
    return {"wer": edits / words, "clicks": float(np.mean(clicks)),
            "meter_onset_ms": float(np.median(onset_err)) if onset_err else float("nan")}


def phoneme_input_wer(voice: str) -> float:
    """WER of the phoneme strings the voice analyses, spoken by its espeak speaker at speech
    rate (monotone, no singing): what the sung WER could reach if singing cost nothing."""
    spec = get_voice(voice)
    notes, _, _ = make_notes(120)
    groups = phrases(sung_syllables(notes))
    edits = words = 0
    for li, line in enumerate(LYRICS):
        text = " ".join(phoneme_text(g)[0] for g in groups if g[0].notes[0].line_index == li)
        x, _ = speak_phonemes(text, voice=spec.espeak_voice, pitch=spec.espeak_pitch,
                              rate_wpm=spec.rate_wpm)
        ref = ref_words(line)
        edits += edit_distance(ref, recognise(to16k(x, ESPEAK_RATE)))
        words += len(ref)
    return edits / words


def _syllable_lengths(notes: list[SungNote], line_index: int) -> list[float]:
    """Seconds from each syllable's note start to the next one's (melismas included)."""
    out: list[float] = []
    for n in notes:
        if n.line_index == line_index:
            if n.is_melisma and out:
                out[-1] += n.duration_s
            else:
                out.append(n.duration_s)
    return out


def held_vowels(x: np.ndarray, events, lengths: list[float]) -> np.ndarray | None:
    """Speech ``x`` (22 050 Hz) with each vowel lengthened (Praat's PSOLA, pitch kept) so
    that every syllable, from its vowel's start to the next vowel's, lasts ``lengths[i]``;
    syllables shorter than that are shortened whole. None when the vowel count differs."""
    import parselmouth
    from parselmouth.praat import call

    names = [base(e.name) for e in events]
    starts = [e.start / ESPEAK_RATE for e in events] + [x.size / ESPEAK_RATE]
    vowels = [k for k, nm in enumerate(names) if nm and not nm.startswith("_") and is_vowel(nm)]
    if len(vowels) != len(lengths):
        return None
    snd = parselmouth.Sound(x, ESPEAK_RATE)
    manipulation = call(snd, "To Manipulation", 0.01, 75, 400)
    tier = call("Create DurationTier", "held", 0, snd.duration)
    edges = [starts[k] for k in vowels] + [snd.duration]
    eps = 5e-4
    for j, k in enumerate(vowels):
        a, b = starts[k], starts[k + 1]
        span = edges[j + 1] - edges[j]
        if lengths[j] >= span:
            f = (lengths[j] - (span - (b - a))) / max(b - a, 1e-3)
            points = ((a - eps, 1.0), (a + eps, f), (b - eps, f), (b + eps, 1.0))
        else:
            f = lengths[j] / span
            points = ((edges[j] + eps, f), (edges[j + 1] - eps, f))
        for t, v in points:
            call(tier, "Add point", t, v)
    call([manipulation, tier], "Replace duration tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0]


def melody_pitched(y: np.ndarray, events, notes: list[SungNote], shift: int) -> np.ndarray:
    """Held speech ``y`` (from :func:`held_vowels`; ``events`` the unheld speech's phones) with
    its intonation replaced by the notes' pitches (+ ``shift`` semitones), a step at each note
    start and level through the note, by Praat's PSOLA: the held speech sung on the melody."""
    import parselmouth
    from parselmouth.praat import call

    first_vowel = next(e.start for e in events if is_vowel(base(e.name)))
    t0 = first_vowel / ESPEAK_RATE - notes[0].start_s  # the held speech's first vowel: the first note
    snd = parselmouth.Sound(y, ESPEAK_RATE)
    manipulation = call(snd, "To Manipulation", 0.01, 60, 500)
    tier = call("Create PitchTier", "melody", 0, snd.duration)
    for n in notes:
        hz = 440.0 * 2.0 ** ((n.midi_pitch + shift - 69) / 12)
        call(tier, "Add point", t0 + n.start_s + 0.02, hz)
        call(tier, "Add point", t0 + n.start_s + max(n.duration_s - 0.03, 0.025), hz)
    call([manipulation, tier], "Replace pitch tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0]


def held_wer(spoken: list[tuple[np.ndarray, list]], notes: list[SungNote],
             melody_shift: int | None = None) -> tuple[float, int]:
    """WER of each line's speech (``spoken[i]`` = audio, events of LYRICS[i]) with its
    syllables made as long as the line's notes (:func:`held_vowels`), and sung on the melody
    when ``melody_shift`` is given (:func:`melody_pitched`). Lines where espeak said another
    number of syllables than the notes have are left out. Returns (WER, lines kept)."""
    edits = words = kept = 0
    for li, (line, (x, ev)) in enumerate(zip(LYRICS, spoken)):
        y = held_vowels(x, ev, _syllable_lengths(notes, li))
        if y is None:   # espeak said another number of syllables: not comparable
            continue
        if melody_shift is not None:
            y = melody_pitched(y, ev, [n for n in notes if n.line_index == li], melody_shift)
        ref = ref_words(line)
        edits += edit_distance(ref, recognise(to16k(y, ESPEAK_RATE)))
        words += len(ref)
        kept += 1
    return edits / max(words, 1), kept


def duration_bound_wer(tempo_bpm: float, voice: str, runs: int = 3) -> tuple[list[float], list[float]]:
    """WER of speech that differs from plain speech only in its syllable lengths, which are
    the sung notes': (this voice's espeak speaker reading the text, with its intonation;
    the voice's analysed phoneme strings, monotone), vowels held by PSOLA at speech pitch.
    No voice made from that speech can be expected to read better at these note lengths.
    Praat's overlap-add draws random offsets where it copies unvoiced stretches (it has no
    seed), so each figure is given for ``runs`` runs."""
    spec = get_voice(voice)
    notes, _, _ = make_notes(tempo_bpm)
    groups = phrases(sung_syllables(notes))
    speech = {"text": [], "strings": []}
    for li, line in enumerate(LYRICS):
        speech["text"].append(speak_text(line, voice=spec.espeak_voice, rate_wpm=175))
        text = " ".join(phoneme_text(g)[0] for g in groups if g[0].notes[0].line_index == li)
        speech["strings"].append(speak_phonemes(text, voice=spec.espeak_voice, pitch=spec.espeak_pitch,
                                                rate_wpm=spec.rate_wpm))
    return ([held_wer(speech["text"], notes)[0] for _ in range(runs)],
            [held_wer(speech["strings"], notes)[0] for _ in range(runs)])


def print_speaker_bounds(speakers: list[str], tempos: list[float], runs: int) -> None:
    """The duration bound by espeak speaker: each reads the lyrics as text (175 wpm, its own
    intonation); its WER spoken, held to the bench melody's note lengths (``runs`` runs), and
    held and sung on the melody an octave down (the tenor's register)."""
    words = sum(len(ref_words(line)) for line in LYRICS)
    for speaker in speakers:
        spoken = [speak_text(line, voice=speaker, rate_wpm=175) for line in LYRICS]
        edits = sum(edit_distance(ref_words(line), recognise(to16k(x, ESPEAK_RATE)))
                    for line, (x, _) in zip(LYRICS, spoken))
        for tempo in tempos:
            notes, _, _ = make_notes(tempo)
            held_runs = [held_wer(spoken, notes) for _ in range(runs)]
            held = [w for w, _ in held_runs]
            sung = [held_wer(spoken, notes, melody_shift=-12)[0] for _ in range(runs)]
            print(f"{speaker:16s} {tempo:4.0f} bpm: spoken {edits / words:.3f}; {held_runs[0][1]} lines "
                  f"held {np.mean(held):.3f} ({', '.join(f'{v:.3f}' for v in held)}); held and on the "
                  f"melody {np.mean(sung):.3f} ({', '.join(f'{v:.3f}' for v in sung)})", flush=True)


def line_wer(y: np.ndarray, spans: list[tuple[float, float]],
             lines: list[str] | None = None) -> tuple[float, list[str]]:
    """WER of a sung vocal (mono, SR) over ``lines`` (default LYRICS), one clip per line
    (0.4 s either side of its span)."""
    edits = words = 0
    hyps = []
    for line, (a, b) in zip(LYRICS if lines is None else lines, spans):
        clip = y[int(max(0.0, a - 0.4) * SR):int((b + 0.4) * SR)]
        ref = ref_words(line)
        hyp = recognise(to16k(clip, SR))
        hyps.append(" ".join(hyp))
        edits += edit_distance(ref, hyp)
        words += len(ref)
    return edits / words, hyps


def seed_wers(tempo_bpm: float, voice: str, options: RenderOptions, seeds: list[int],
              double: bool) -> list[float]:
    """WER for other seeds: the seed moves only vibrato rate and pitch wander, yet the
    recogniser's WER moves by up to +-0.05 with it, so the figure is a mean over seeds."""
    notes, spans, total_s = make_notes(tempo_bpm)
    out = []
    for seed in seeds:
        y2 = sing(notes, sample_rate=SR, total_samples=int(total_s * SR), voice=voice, seed=seed,
                  double=double, options=options)
        out.append(line_wer(y2.mean(axis=0).astype(np.float64), spans)[0])
    return out


def sung_run(tempo_bpm: float, voice: str, options: RenderOptions, seed: int, double: bool) -> dict:
    notes, spans, total_s = make_notes(tempo_bpm)
    analyse_phrase.cache_clear()
    t = time.perf_counter()
    y2 = sing(notes, sample_rate=SR, total_samples=int(total_s * SR), voice=voice, seed=seed,
              double=double, options=options)
    synth_s = time.perf_counter() - t
    y = y2.mean(axis=0).astype(np.float64)
    edits = words = 0
    onset_err, hyps = [], []
    labels = np.zeros(3)
    for li, (line, (a, b)) in enumerate(zip(LYRICS, spans)):
        lo, hi = max(0.0, a - 0.4), b + 0.4
        clip = y[int(lo * SR):int(hi * SR)]
        x16 = to16k(clip, SR)
        ref = ref_words(line)
        hyp = recognise(x16)
        hyps.append(" ".join(hyp))
        edits += edit_distance(ref, hyp)
        words += len(ref)
        want: list[list[float]] = []
        held = []
        for n in notes:
            if n.line_index == li and not n.is_melisma:
                if n.is_word_start:
                    want.append([])
                want[-1].append(n.start_s - lo)
                if n.duration_s >= 0.4:
                    sy = word_syllables(n.word)
                    nucleus = sy[min(len(want[-1]), len(sy)) - 1].nucleus
                    held.append((n.start_s - lo, n.end_s - lo, ESPEAK_TO_ARPABET.get(nucleus, "?")))
        labels += held_frame_labels(x16, held)
        if not FAST[0]:
            onset_err.extend(match_onsets(vowel_onsets(x16, ref), want))
    if FAST[0]:
        return {"tempo": tempo_bpm, "voice": voice, "wer": edits / words, "hyps": hyps,
                "pitch_med_cents": np.nan, "pitch_within50": np.nan, "note_pitch_med_cents": np.nan,
                "onset_med_ms": np.nan, "onset_within20": np.nan, "onset_bias_ms": np.nan,
                "onset_n": 0, "clicks": np.nan, "motion_db": np.nan, "synth_s": synth_s,
                "audio_s": total_s, "rtf": total_s / synth_s,
                "held_noise": 100 * labels[1] / labels[0], "held_own": 100 * labels[2] / labels[0]}
    # Pitch is measured against what is sung: the voice may take the melody an octave down/up.
    shift = sung_octave_shift(notes, voice)
    sung = [dataclasses.replace(n, midi_pitch=n.midi_pitch + shift) for n in notes]
    errs, note_errs = pitch_errors(y, SR, sung)
    herrs, _ = pitch_errors(y, SR, sung, "harvest")
    onset = np.abs(np.array(onset_err)) if onset_err else np.array([np.nan])
    return {
        "tempo": tempo_bpm, "voice": voice, "wer": edits / words,
        "pitch_med_cents": float(np.median(np.abs(errs))),
        "pitch_within50": float(np.mean(np.abs(errs) <= 50) * 100),
        "note_pitch_med_cents": float(np.median(np.abs(note_errs))),
        "harvest_med_cents": float(np.median(np.abs(herrs))),
        "harvest_within50": float(np.mean(np.abs(herrs) <= 50) * 100),
        "onset_med_ms": float(np.median(onset)), "onset_within20": float(np.mean(onset <= 20) * 100),
        "onset_bias_ms": float(np.median(onset_err)) if onset_err else float("nan"),
        "onset_n": len(onset_err), "voicing_ms": voicing_onset_errors(y, SR, notes),
        "clicks": clicks_per_s(y, SR), "motion_db": held_vowel_motion(y, SR, notes),
        "air_db": air_ratios_db(y, SR), "deesser_db": deesser_effect_db(y2, SR),
        "synth_s": synth_s, "audio_s": total_s, "rtf": total_s / synth_s, "hyps": hyps,
        "shift": shift, "held_noise": 100 * labels[1] / labels[0], "held_own": 100 * labels[2] / labels[0],
    }


def song_vocal_run(spec_path: str, seed: int, voice: str | None = None, preset: str | None = None) -> dict:
    """The product's own vocal: ``spec_path`` composed with ``seed`` (the melody composer's
    rhythm and pitches, not this bench's melody), its lead sung dry by the spec's voice (or
    ``voice``), each lyric line decoded as above. Returns the WER, the note lengths (s) of
    the lines' inner syllables and last notes, Praat's pitch figures and clicks."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose import compose_song
    from ainur_cli.spec import load_spec
    from ainur_cli.vocals import song_octaves, sung_notes, sung_notes_by_voice, vocal_settings

    spec = dataclasses.replace(load_spec(spec_path), seed=seed)
    if preset is not None:  # the preset's own tempo, meter and key
        spec = dataclasses.replace(spec, preset=preset, tempo_map=None, meters=None, key=None)
    resolved = resolve_song(spec)
    plan = resolved.plan
    settings = vocal_settings(resolved.preset.style.vocals)
    comp = compose_song(key=spec.key or resolved.preset.style.key, seed=seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections, spec_file=spec.file)
    notes = sung_notes(comp, plan.timeline)
    # Each voice sings its sections (the spec's vocals.section_voices), or ``voice`` all.
    groups = ({voice: notes} if voice else sung_notes_by_voice(comp, plan.timeline, settings))
    shifts = ({voice: sung_octave_shift(notes, voice)} if voice else
              song_octaves(comp, plan.timeline, settings))   # as the product places them
    total_s = max(n.end_s for n in notes) + 1.0
    sung = {name: sing(group, sample_rate=SR, total_samples=int(total_s * SR), voice=name,
                       seed=seed, octave_shift=shifts[name]).mean(axis=0).astype(np.float64)
            for name, group in groups.items()}
    y = sum(sung.values())
    lines: dict[int, list[SungNote]] = {}
    for n in notes:
        lines.setdefault(n.line_index, []).append(n)
    texts = [" ".join(w for n in ns if n.is_word_start for w in words_of(n.word)) for ns in lines.values()]
    wer, _ = line_wer(y, [(ns[0].start_s, ns[-1].end_s) for ns in lines.values()], texts)
    per_voice, all_errs = {}, []
    for name, group in groups.items():  # each voice's own take against what it sings
        shift = shifts[name]
        e, _ = pitch_errors(sung[name], SR, [dataclasses.replace(n, midi_pitch=n.midi_pitch + shift)
                                             for n in group])
        per_voice[name] = (float(np.mean(np.abs(e) <= 50) * 100), shift)
        all_errs.append(e)
    errs = np.concatenate(all_errs)
    return {"wer": wer, "words": sum(len(t.split()) for t in texts), "lines": len(lines),
            "tempo_bpm": float(plan.timeline.tempo_at_beat(0)),
            "voice": next(iter(groups)), "voices": per_voice, "texts": texts,
            "inner_s": [n.duration_s for ns in lines.values() for n in ns[:-1]],
            "last_s": [ns[-1].duration_s for ns in lines.values()],
            "pitch_within50": float(np.mean(np.abs(errs) <= 50) * 100), "clicks": clicks_per_s(y, SR)}


def print_song_runs(spec_path: str, seeds: list[int], voice: str | None) -> None:
    wers = []
    for seed in seeds:
        r = song_vocal_run(spec_path, seed, voice)
        wers.append(r["wer"])
        inner, last = np.array(r["inner_s"]), np.array(r["last_s"])
        print(f"{spec_path} seed {seed} ({r['voice']}, {r['lines']} lines, {r['words']} words): "
              f"WER {r['wer']:.3f}; syllables inside lines median {np.median(inner):.3f} s "
              f"(mean {inner.mean():.3f}), line ends median {np.median(last):.3f} s (max {last.max():.3f}); "
              f"pitch {r['pitch_within50']:.1f} % within 50 cents; clicks {r['clicks']:.2f}/s")
        if len(r["voices"]) > 1:
            print("  by voice (the spec's vocals.section_voices): " + "; ".join(
                f"{name} {w50:.1f} % within 50 cents (sung {shift:+d} semitones)"
                for name, (w50, shift) in r["voices"].items()))
    spec = get_voice(r["voice"])
    spoken = spoken_baseline(lines=r["texts"])["wer"]
    own = spoken_baseline(spec.espeak_voice, spec.rate_wpm, lines=r["texts"])["wer"]
    print(f"{spec_path}: WER {np.mean(wers):.3f} over seeds {', '.join(map(str, seeds))}; the same lines "
          f"spoken by espeak-ng en-us: {spoken:.3f} (ratio {np.mean(wers) / spoken:.2f}), by the voice's "
          f"speaker {spec.espeak_voice}: {own:.3f}")


def print_preset_sweep(spec_path: str, presets: list[str], seeds: list[int], voice: str | None) -> None:
    """The spec's lyrics set by each preset at its own tempo, meter and key (the spec's
    sections and words kept): WER and Praat pitch of the product's vocal per preset and seed,
    then the means and the runs under the issue's pitch bar (95 % within 50 cents)."""
    rows, low_voices = [], []
    for preset in presets:
        for seed in seeds:
            r = song_vocal_run(spec_path, seed, voice, preset=preset)
            inner = np.array(r["inner_s"])
            rows.append((preset, seed, r["wer"], r["pitch_within50"]))
            if len(r["voices"]) > 1:  # a duet: each voice's own figure against the bar too
                low_voices += [f"{preset} seed {seed} {name} ({w50:.1f} %)"
                               for name, (w50, _) in r["voices"].items() if w50 < 95.0]
            print(f"{preset:14s} {r['tempo_bpm']:5.0f} bpm seed {seed}: WER {r['wer']:.3f}; pitch "
                  f"{r['pitch_within50']:.1f} % within 50 cents; syllables inside lines median "
                  f"{np.median(inner):.3f} s, line ends median {np.median(r['last_s']):.3f} s; "
                  f"clicks {r['clicks']:.2f}/s" + ("" if len(r["voices"]) < 2 else "; by voice " + ", ".join(
                      f"{name} {w50:.1f} %" for name, (w50, _) in r["voices"].items())), flush=True)
    below = [f"{p} seed {s} ({w50:.1f} %)" for p, s, _, w50 in rows if w50 < 95.0]
    print(f"{spec_path} over {len(presets)} presets x seeds {', '.join(map(str, seeds))}: mean WER "
          f"{np.mean([w for _, _, w, _ in rows]):.3f}, mean pitch {np.mean([x for *_, x in rows]):.2f} % "
          f"within 50 cents; under 95 %: {', '.join(below) if below else 'none'}"
          + (f"; voices under 95 %: {', '.join(low_voices)}" if low_voices else ""))


def parse_sets(items: list[str], voices: list[str]) -> RenderOptions:
    """Apply ``--set`` overrides: ``warp.X=``, ``voice.X=`` (every benchmarked voice), or a
    RenderOptions field."""
    from ainur_cli.voice.voices import VOICES
    opt = RenderOptions()
    for item in items:
        key, _, raw = item.partition("=")
        if key.startswith("voice."):
            for name in voices:
                spec = get_voice(name)
                field = key[6:]
                cur = getattr(spec, field)
                value = raw.lower() in ("1", "true", "yes") if isinstance(cur, bool) else type(cur)(raw)
                VOICES[spec.name] = dataclasses.replace(spec, **{field: value})
            continue
        value = float(raw)
        if key.startswith("warp."):
            opt = dataclasses.replace(opt, warp=dataclasses.replace(opt.warp, **{key[5:]: value}))
        else:
            opt = dataclasses.replace(opt, **{key: value})
    return opt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tempos", default="120,160,240")
    ap.add_argument("--voices", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wer-seeds", type=int, default=3,
                    help="WER is the mean over this many seeds (seed, seed+1, ...)")
    ap.add_argument("--double", action="store_true")
    ap.add_argument("--set", action="append", default=[], help="RenderOptions override, e.g. formant_motion=0")
    ap.add_argument("--hyps", action="store_true", help="print pocketsphinx hypotheses")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--wav", help="write the first run's vocal here")
    ap.add_argument("--fast", action="store_true", help="WER and speed only")
    ap.add_argument("--transpose", type=int, default=0, help="semitones added to the melody")
    ap.add_argument("--song", help="instead: measure the composed vocal of this song spec "
                    "(the melody composer's rhythm), e.g. examples/song.yaml")
    ap.add_argument("--song-seeds", default="1,2,3,4", help="composition seeds for --song")
    ap.add_argument("--song-presets", help="with --song: set its lyrics by each of these presets "
                    "(comma-separated, or 'all') at the preset's tempo, meter and key")
    ap.add_argument("--bound-speakers", help="instead: the duration bound of these espeak speakers "
                    "(comma-separated, e.g. en-us+klatt4,en-us+f2) at --tempos: spoken, held, and "
                    "held on the melody")
    ap.add_argument("--bound-runs", type=int, default=2, help="runs per bound (Praat's PSOLA has no seed)")
    args = ap.parse_args()
    if args.song:
        logging.basicConfig(level=logging.WARNING)
        voice = None if args.voices == "default" else args.voices
        seeds = [int(x) for x in args.song_seeds.split(",")]
        if args.song_presets:
            from ainur_cli.presets import list_presets
            names = sorted(list_presets()) if args.song_presets == "all" else args.song_presets.split(",")
            print_preset_sweep(args.song, names, seeds, voice)
        else:
            print_song_runs(args.song, seeds, voice)
        return
    TRANSPOSE[0] = args.transpose
    if args.bound_speakers:
        logging.basicConfig(level=logging.WARNING)
        print_speaker_bounds(args.bound_speakers.split(","), [float(t) for t in args.tempos.split(",")],
                             args.bound_runs)
        return
    FAST[0] = args.fast
    logging.basicConfig(level=logging.WARNING)
    options = parse_sets(args.set, args.voices.split(","))
    print(f"lines: {len(LYRICS)}; options: {options}")
    base = None
    if not args.no_baseline:
        base = spoken_baseline()
        print(f"spoken baseline (espeak-ng en-us, 175 wpm): WER {base['wer']:.3f}  clicks/s {base['clicks']:.2f}  "
              f"onset-meter error vs espeak truth {base['meter_onset_ms']:.1f} ms median")
        check = spoken_voicing_check()
        print(f"voicing-onset meter on espeak en-us+klatt4 speech: {np.median(check):+.1f} ms median from "
              f"espeak's vowel boundary after s/sh/f/th ({len(check)} vowels; 10-90 % "
              f"{np.percentile(check, 10):+.1f}..{np.percentile(check, 90):+.1f} ms)")
    print(f"{'voice':8s} {'bpm':>4s} {'WER':>6s} {'ratio':>6s} {'cents':>6s} {'<50c%':>6s} {'note¢':>6s} "
          f"{'onset':>6s} {'<20ms%':>6s} {'bias':>6s} {'n':>4s} {'clk/s':>6s} {'motion':>6s} {'synth':>6s} {'RTF':>6s}")
    for voice in args.voices.split(","):
        for tempo in [float(t) for t in args.tempos.split(",")]:
            r = sung_run(tempo, voice, options, args.seed, args.double)
            wers = [r["wer"]] + seed_wers(tempo, voice, options,
                                          list(range(args.seed + 1, args.seed + args.wer_seeds)),
                                          args.double)
            r["wer"] = float(np.mean(wers))
            ratio = r["wer"] / base["wer"] if base else float("nan")
            if not args.no_baseline:
                spec = get_voice(voice)
                own = spoken_baseline(spec.espeak_voice, spec.rate_wpm)["wer"]
                print(f"  (spoken by this voice's espeak speaker {spec.espeak_voice}: WER {own:.3f}; "
                      f"its analysed phoneme strings at speech rate, monotone: {phoneme_input_wer(voice):.3f})")
                text_bound, strings_bound = duration_bound_wer(tempo, voice)
                runs = lambda w: f"{np.mean(w):.3f} ({', '.join(f'{v:.3f}' for v in w)})"  # noqa: E731
                print(f"  (duration bound: the same speech with only its syllables lengthened to the sung "
                      f"notes, vowels held by PSOLA at speech pitch, 3 runs: WER {runs(text_bound)} for "
                      f"the text read by {spec.espeak_voice}, {runs(strings_bound)} for the analysed "
                      f"phoneme strings)")
            print(f"{voice:8s} {tempo:4.0f} {r['wer']:6.3f} {ratio:6.2f} {r['pitch_med_cents']:6.1f} "
                  f"{r['pitch_within50']:6.1f} {r['note_pitch_med_cents']:6.1f} {r['onset_med_ms']:6.1f} "
                  f"{r['onset_within20']:6.1f} {r['onset_bias_ms']:6.1f} {r['onset_n']:4d} {r['clicks']:6.2f} "
                  f"{r['motion_db']:6.2f} {r['synth_s']:6.2f} {r['rtf']:6.1f}")
            print(f"  (WER per seed {args.seed}..: {', '.join(f'{w:.3f}' for w in wers)}; "
                  f"sd {np.std(wers):.3f})")
            print(f"  (held-note frames, phone loop, seed {args.seed}: {r['held_noise']:.1f} % noise/silence, "
                  f"{r['held_own']:.1f} % their own vowel)")
            if not FAST[0]:
                print(f"  (sung {r['shift']:+d} semitones from the written melody, the voice's register; "
                      "pitch is measured against the sung notes)")
                v = np.array(r["voicing_ms"])
                if v.size:
                    print(f"  (vowel onsets by voicing, {v.size} syllables after an unvoiced consonant or a rest: "
                          f"median {np.median(v):+.1f} ms from the note start, 10-90 % {np.percentile(v, 10):+.1f}.."
                          f"{np.percentile(v, 90):+.1f} ms, {np.mean(np.abs(v) <= 20) * 100:.0f} % within 20 ms)")
                print(f"  (pitch by pyworld harvest instead of Praat: median {r['harvest_med_cents']:.1f} cents, "
                      f"{r['harvest_within50']:.1f} % within 50 cents)")
                print(f"  (air: 11-16 kHz {r['air_db'][0]:.1f} dB against 1-4 kHz where it sings, "
                      f"{r['air_db'][1]:.1f} dB in fricative frames)")
                before, after, vowels, below = r["deesser_db"]
                print(f"  (the default vocal chain's de-esser: loud fricatives' 6-20 kHz {before:+.1f} -> "
                      f"{after:+.1f} dB against their 1-4 kHz; vowels' 6-20 kHz {vowels:+.2f} dB; "
                      f"below 5 kHz {below:+.3f} dB)")
            if args.hyps:
                for line, h in zip(LYRICS, r["hyps"]):
                    print(f"    {line!r:45s} -> {h!r}")
            if args.wav:
                import soundfile as sf
                notes, _, total_s = make_notes(tempo)
                y = sing(notes, sample_rate=SR, total_samples=int(total_s * SR), voice=voice, seed=args.seed, options=options)
                sf.write(args.wav, y.T, SR)
                args.wav = None


if __name__ == "__main__":
    main()

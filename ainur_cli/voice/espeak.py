"""espeak-ng through ctypes: text → phoneme mnemonics, and phoneme strings → speech + timings.

The ``espeakng-loader`` wheel ships ``libespeak-ng`` and its data folder, so nothing is
downloaded and no Debian package is needed. The library holds global state and is not
thread-safe: every call goes through one lock. It also keeps synthesis state in static
variables that neither ``espeak_Initialize`` nor any API call resets (see :class:`_Engine`),
so every utterance is spoken by a freshly loaded copy of the library.

Audio comes back as float64 mono at :data:`ESPEAK_RATE` (22 050 Hz) with one
:class:`PhoneEvent` per phoneme (its mnemonic, e.g. ``"'aI"``, and start sample).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ainur_cli.errors import MissingDependencyError, VoiceError

log = logging.getLogger(__name__)

ESPEAK_RATE = 22050  # Hz, what libespeak-ng synthesises at

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PHONEMES_INPUT = 0x100
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class PhoneEvent:
    """One phoneme espeak-ng produced: ``name`` with its stress mark, ``start`` in samples."""

    name: str
    start: int


class _Engine:
    """The process-wide libespeak-ng handle (lock every call; a fresh library per utterance).

    libespeak-ng keeps synthesis history in function-local statics that survive
    ``espeak_Terminate``/``espeak_Initialize``: the glottal cycle counter that drives the
    voice's roughness (an amplitude dip every second cycle for most speakers, so its parity
    flips the output), the overflow gain control, Klatt's skew sign and noise filter memory.
    An utterance would then depend on everything the process said before (a batch worker's
    second song, ``ainur serve``'s second request). So before each utterance that follows
    another call, the library is unloaded and loaded again (statics back to their initial
    values; ~5 ms CPU with ``espeak_Initialize``). The library is loaded from a private copy
    (:func:`_private_library`) so that no other user of the wheel's file keeps it mapped.
    """

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError(
                "the singing voice needs espeak-ng", value="espeakng-loader",
                allowed="pip install espeakng-loader") from exc
        self.data_dir, self.steady = _steady_data_dir(Path(espeakng_loader.get_data_path()))
        self.path = _private_library(Path(espeakng_loader.get_library_path()))
        self.lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._events: list[PhoneEvent] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference for the C side
        self._voice: tuple | None = None
        self._used = False        # a call since the library was loaded: reload before synth
        self._warned = False
        self._load()

    def _load(self) -> None:
        self.lib = ctypes.CDLL(str(self.path))
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                                   ctypes.c_int]
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_dir).encode(),
                                          _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
        if rate != ESPEAK_RATE:
            raise VoiceError(f"libespeak-ng failed to initialise (returned {rate})")
        self.lib.espeak_SetSynthCallback(self._callback)
        self._voice, self._used = None, False

    def _reload(self) -> None:
        """Unload the library and load it again: every static back to its initial value."""
        import _ctypes

        self.lib.espeak_Terminate()
        handle, self.lib = self.lib._handle, None
        close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary")
        close(handle)
        if hasattr(os, "RTLD_NOLOAD") and not self._warned:
            try:  # still mapped (another reference): the statics would carry over
                ctypes.CDLL(str(self.path), mode=os.RTLD_NOLOAD)
                self._warned = True
                log.warning("libespeak-ng stays loaded after dlclose; vocals may depend on "
                            "what this process sang before")
            except OSError:
                pass
        self._load()

    def _on_audio(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_PHONEME:
                name = bytes(ev.id).split(b"\0")[0].decode("ascii", "replace")
                self._events.append(PhoneEvent(name, int(ev.sample)))
            i += 1
        return 0

    def set_voice(self, name: str, pitch: int, rate_wpm: int, pitch_range: int = 0) -> None:
        key = (name, pitch, rate_wpm, pitch_range)
        if key == self._voice:
            return
        self._used = True  # loading a voice is history too (dictionary, tables)
        lang, _, variant = name.partition("+")
        if self.steady and (not variant or variant in STEADY_VARIANTS):
            name = f"{lang}+{_STEADY_PREFIX}{variant or 'plain'}"  # flutter off
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise VoiceError("espeak-ng has no such voice", value=name,
                             allowed="an espeak-ng voice name such as 'en-us+m3'")
        self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        self.lib.espeak_SetParameter(_PARAM_RANGE, pitch_range, 0)
        self._voice = key

    def text_to_phonemes(self, text: str) -> list[str]:
        """Words → espeak mnemonics, one string per word (phonemes joined by ``_``)."""
        self._used = True
        ptr = ctypes.c_char_p(text.encode("utf-8"))
        ref = ctypes.pointer(ptr)
        words: list[str] = []
        while ref.contents.value:
            out = self.lib.espeak_TextToPhonemes(ref, _CHARS_UTF8, ord("_") << 8)
            if out:
                words.extend(out.decode("utf-8", "replace").split())
        return words

    def synth(self, text: str, voice: tuple, flags: int = _CHARS_UTF8 | _PHONEMES_INPUT
              ) -> tuple[np.ndarray, list[PhoneEvent]]:
        """Speak ``text`` with ``voice`` = :meth:`set_voice`'s arguments, from the library's
        initial state."""
        if self._used:
            self._reload()
        self.set_voice(*voice)
        self._used = True
        self._chunks, self._events = [], []
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(1))  # breath noise: same every time
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, 0, 0, flags, None, None)
        if err != 0:
            raise VoiceError("espeak-ng could not synthesise a phrase", value=text)
        audio = (np.concatenate(self._chunks).astype(np.float64) / 32768.0 if self._chunks
                 else np.zeros(0))
        return audio, list(self._events)


_STEADY_PREFIX = "ainur_"
# espeak variants that get a flutter-free copy (espeak lists at most 350 voices, so not all).
STEADY_VARIANTS = ("m1", "m3", "m6", "m7", "f2", "f3", "f4", "klatt4")
_STEADY_LINES = "\nflutter 0\necho 0 0\n"  # no pitch wobble, no echo tail (a dry voice)


def _steady_data_dir(data: Path) -> tuple[Path, bool]:
    """espeak-ng's data folder plus variants with ``flutter 0``.

    Flutter (a slow pitch wobble driven by a counter that survives between utterances and
    even re-initialisation) makes espeak's output depend on everything it said before, so a
    phrase would not render bit-identically. Variant files live in the data folder, which
    belongs to the wheel, so a mirror of it (symlinks) plus our variants is built once under
    the user's cache folder. Where symlinks are impossible the wheel's folder is used as is
    (output then depends on call history) and a warning is logged.
    """
    tag = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag += "-" + hashlib.sha256(repr(STEADY_VARIANTS).encode()).hexdigest()[:6]
    target = cache / "ainur" / f"espeak-ng-data-{tag}"
    if (target / "voices" / "!v" / f"{_STEADY_PREFIX}plain").exists():
        return target, True
    try:
        tmp = Path(tempfile.mkdtemp(prefix="espeak-", dir=_mkdirs(cache / "ainur")))
        for entry in data.iterdir():
            if entry.name != "voices":
                (tmp / entry.name).symlink_to(entry)
        (tmp / "voices").mkdir()
        for entry in (data / "voices").iterdir():
            if entry.name != "!v":
                (tmp / "voices" / entry.name).symlink_to(entry)
        variants = tmp / "voices" / "!v"
        variants.mkdir()
        for entry in (data / "voices" / "!v").iterdir():
            (variants / entry.name).symlink_to(entry)
            if entry.name in STEADY_VARIANTS and entry.is_file():
                text = entry.read_text("utf-8", "replace")
                (variants / f"{_STEADY_PREFIX}{entry.name}").write_text(text + _STEADY_LINES)
        (variants / f"{_STEADY_PREFIX}plain").write_text("name steady" + _STEADY_LINES)
        try:
            tmp.rename(target)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
        return target, True
    except OSError as exc:  # pragma: no cover - e.g. no symlinks on this file system
        log.warning("espeak-ng flutter cannot be switched off (%s); vocals may differ slightly "
                    "between runs", exc)
        return data, False


def _private_library(lib: Path) -> Path:
    """A copy of the wheel's libespeak-ng under the user's cache folder, which only this
    module loads (so unloading it really unloads it); the wheel's own file where no copy can
    be written."""
    stat = lib.stat()
    tag = hashlib.sha256(f"{lib.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    target = cache / "ainur" / f"{lib.stem}-{tag}{lib.suffix}"
    if target.exists():
        return target
    try:
        fd, tmp = tempfile.mkstemp(prefix="espeak-", suffix=lib.suffix, dir=_mkdirs(cache / "ainur"))
        os.close(fd)
        shutil.copyfile(lib, tmp)
        os.replace(tmp, target)
        return target
    except OSError as exc:  # pragma: no cover - e.g. a read-only home
        log.warning("cannot copy libespeak-ng to the cache folder (%s); using the wheel's", exc)
        return lib


def _mkdirs(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


@lru_cache(maxsize=4096)
def word_phonemes(word: str, voice: str = "en-us") -> tuple[str, ...]:
    """espeak-ng's own reading of one word (or number, or name) as mnemonics with stress marks,
    e.g. ``"Björk"`` → ``('b', 'j', "'3:", 'k')``. Several words come back concatenated."""
    eng = _engine()
    with eng.lock:
        eng.set_voice(voice, 50, 175)
        words = eng.text_to_phonemes(word)
    # "(ko)" ... "(en-us)": espeak switching language for letters English has no rule for;
    # not phonemes.
    return tuple(p for w in words for p in w.split("_")
                 if p and not (p.startswith("(") and p.endswith(")")))


def speak_phonemes(phonemes: str, *, voice: str, pitch: int, rate_wpm: int
                   ) -> tuple[np.ndarray, list[PhoneEvent]]:
    """Synthesise an espeak phoneme string (``"h@l'oU w'3:ld"``) monotone.

    :returns: (audio, shape (samples,) float64 at 22 050 Hz; phoneme events in order).
    """
    eng = _engine()
    with eng.lock:
        return eng.synth(f"[[{phonemes}]]", (voice, pitch, rate_wpm))


def speak_text(text: str, *, voice: str = "en-us+m3", pitch: int = 50, rate_wpm: int = 165,
               pitch_range: int = 50, inline_phonemes: bool = False
               ) -> tuple[np.ndarray, list[PhoneEvent]]:
    """Speech of ``text`` read by espeak (with its own intonation unless ``pitch_range`` is 0).

    :param inline_phonemes: ``[[...]]`` in ``text`` is phoneme input (``"and [['Ev3: i:]] light"``).
    :returns: (audio, shape (samples,) float64 at 22 050 Hz; phoneme events).
    """
    eng = _engine()
    with eng.lock:
        return eng.synth(text, (voice, pitch, rate_wpm, pitch_range),
                         _CHARS_UTF8 | (_PHONEMES_INPUT if inline_phonemes else 0))

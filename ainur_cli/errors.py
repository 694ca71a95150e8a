"""One error tree for the whole of Ainur.

Every error a user can cause is an :class:`AinurError`. Its message names where the problem
is (file, line, field), the bad value and what is allowed, so that the CLI can print it as one
line and exit with code 2. Library code raises these; only the CLI turns them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AinurError(Exception):
    """Base of every error that a user's input, files or environment can cause.

    :param message: what is wrong, in one sentence.
    :param file: the file the problem is in (spec, preset, audio, model folder), if any.
    :param line: 1-based line number in ``file``, if known.
    :param field: dotted path of the field, e.g. ``sections[2].bars``.
    :param value: the offending value (shown with ``repr``).
    :param allowed: what would have been accepted, e.g. ``"an integer 1..512"``.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: Any = ...,
        allowed: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(self.format())

    def format(self) -> str:
        """The one-line message: ``file:line: field: message (got 'x'; allowed: ...)``."""
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        tail = []
        if self.value is not ...:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            tail.append(f"got {shown}")
        if self.allowed:
            tail.append(f"allowed: {self.allowed}")
        extra = f" ({'; '.join(tail)})" if tail else ""
        return f"{where}{field}{self.message}{extra}"


class SpecError(AinurError):
    """A song spec (YAML, CLI flags, DAW session facts) is invalid."""


class PresetError(AinurError):
    """A style preset is missing or invalid."""


class ModelError(AinurError):
    """A neural model card, folder or checkpoint is missing or invalid."""


class EngineError(AinurError):
    """An engine (soundfont, voice, neural) cannot render what was asked."""


class ExportError(AinurError):
    """Output cannot be written (unwritable folder, existing render, bad format)."""


class BridgeError(AinurError):
    """A DAW does not answer, answers nonsense, or a bridge request is invalid."""


class VoiceError(EngineError):
    """Lyrics cannot be sung (no letters, line too long for its section, ...)."""


class MissingDependencyError(AinurError):
    """An optional feature needs packages that are not installed; says what to install."""


@dataclass(frozen=True)
class Location:
    """Where a value came from: a file and a 1-based line (either may be unknown)."""

    file: str | None = None
    line: int | None = None

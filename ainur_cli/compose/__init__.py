"""Composition: chords, bass, drums, keys/pads/guitars, arps and a lyric melody, all in
quarter-note beats and deterministic by seed.

``compose_song`` (in :mod:`ainur_cli.compose.song`) is the entry point. It is imported lazily
so that validating a preset (which uses :mod:`ainur_cli.compose.roman`) does not load numpy
and the composer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ainur_cli.compose.types import ChordEvent, Composition, Note, Part

if TYPE_CHECKING:
    from ainur_cli.compose.song import compose_song

__all__ = ["compose_song", "Composition", "ChordEvent", "Note", "Part"]


def __getattr__(name: str) -> Any:
    if name == "compose_song":
        from ainur_cli.compose.song import compose_song

        return compose_song
    raise AttributeError(name)

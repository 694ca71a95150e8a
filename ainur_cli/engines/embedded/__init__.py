"""The embedded engine: General MIDI soundfont instruments rendered in-process (tinysoundfont)."""

"""The embedded engine: General MIDI soundfont instruments rendered in-process (TinySoundFont).

``soundfont`` finds and describes the soundfont (no synthesiser import), ``events`` turns a
part's notes into exact sample/tick spans, ``render`` plays parts into ``(2, samples)``
float32 stems. Import the submodules directly; this package imports nothing heavy.
"""

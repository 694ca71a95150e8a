"""Mix and master.

* ``settings`` — the preset's ``mix:`` block, validated (imports nothing heavy);
* ``mixer`` — per-part strips (pedalboard) with per-stem reverb/delay returns;
* ``master`` — linked mastering: one gain curve from the mix, applied to every stem;
* ``dynamics`` — the vectorised glue compressor / look-ahead limiter gain computers;
* ``eq`` — the master's linear EQ (RBJ biquads);
* ``loudness`` / ``truepeak`` — BS.1770 integrated and short-term loudness, true peak.

Import the submodules directly; this package imports nothing, so that validating a preset
(``settings``) does not load numpy, scipy or pedalboard.
"""

"""Mix and master.

* ``settings`` — the preset's ``mix:`` block, validated (imports nothing heavy);
* ``mixer`` — per-part strips (biquads, compressor, width/pan) with per-stem reverb/delay
  returns;
* ``reverb`` — the reverb bus: a seeded stereo impulse response and FFT convolution;
* ``master`` — linked mastering: one gain curve from the mix, applied to every stem;
* ``dynamics`` — the vectorised part compressor / glue compressor / look-ahead limiter
  gain computers;
* ``stems`` — chunked passes over all stems (sum, peaks, the shared gain);
* ``eq`` — the master's linear EQ (RBJ biquads);
* ``loudness`` / ``truepeak`` — BS.1770 integrated and short-term loudness, true peak;

The signal-processing building blocks they share with the voice (biquad cascades, filter
design, resampling, work buffers) are in :mod:`ainur_cli.dsp`.

Import the submodules directly; this package imports nothing, so that validating a preset
(``settings``) does not load numpy or scipy.
"""

"""Signal-processing building blocks shared by the voice and the mix (no numpy at package import).

* ``biquads`` — biquad cascades through scipy's compiled ``sosfilt`` kernel, loaded without
  ``scipy.signal`` (its state kept between chunks);
* ``filter_design`` — Butterworth SOS and Kaiser-windowed sinc designs, zero-phase filtering;
* ``resample`` — polyphase resampling (the voice's 22 050 Hz → the output rate);
* ``scipy_kernels`` — loads one of scipy's compiled extension modules from its file, so that
  importing the render stack does not run ``scipy.signal``/``scipy.fft``'s package imports;
* ``buffers`` — per-thread work buffers reused between stems.

Import the submodules directly.
"""

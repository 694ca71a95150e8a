"""Filter designs the mixer and the voice use, in numpy alone (no ``scipy.signal`` import).

* :func:`butter_sos` — digital Butterworth low/high/band-pass as second-order sections: the
  analog prototype's poles on the unit circle, the frequency transformation, the bilinear
  transform with the band edges prewarped, and poles paired with their nearest zeros
  (sections ordered so the poles nearest the unit circle come last, the gain in the first) —
  the same construction as ``scipy.signal.butter(..., output="sos")``, whose coefficients it
  matches to ~1e-15 (a test checks every type and order used);
* :func:`kaiser_lowpass` — a Kaiser-windowed sinc FIR, the design of
  ``scipy.signal.firwin(n, cutoff, window=("kaiser", beta))``;
* :func:`sos_step_state` / :func:`zero_phase_sos` — the steady state of a cascade for a unit
  step, and forward–backward (zero-phase) filtering with odd extension at both ends, as
  ``scipy.signal.sosfiltfilt`` does by default.

Coefficients are float64 ``(sections, 6)`` rows ``[b0, b1, b2, 1, a1, a2]``; run them with
:func:`ainur_cli.dsp.biquads.sos_filter_rows` (cast to the signal's dtype).
"""

from __future__ import annotations

import math

import numpy as np

from ainur_cli.dsp.biquads import sos_filter_rows

BTYPES = ("lowpass", "highpass", "bandpass")


def _analog_poles(order: int) -> np.ndarray:
    """Butterworth prototype poles (cut-off 1 rad/s, gain 1): the left half of the unit
    circle, ``exp(jπ(2m + N + 1)/(2N))`` for m = 0 … N−1."""
    m = np.arange(order)
    return np.exp(1j * np.pi * (2 * m + order + 1) / (2 * order))


def _pair_sections(zeros: np.ndarray, poles: np.ndarray, gain: float) -> np.ndarray:
    """Real zeros and conjugate-symmetric poles (equal counts) → second-order sections.

    Each step takes the remaining pole nearest the unit circle, with its conjugate (or, for a
    real pole, the next real pole nearest the circle), and the two remaining zeros nearest to
    it; sections are filled from the last one back, and ``gain`` goes into the first.
    """
    poles = list(poles)
    zeros = [float(z.real) for z in zeros]
    if len(poles) % 2:  # an odd count: a pole and a zero at the origin make it even
        poles.append(0j)
        zeros.append(0.0)
    sections = np.zeros((len(poles) // 2, 6))

    def worst(candidates: list[complex]) -> int:
        return int(np.argmin([abs(1.0 - abs(p)) for p in candidates]))

    for si in range(len(sections) - 1, -1, -1):
        p1 = poles.pop(worst(poles))
        if abs(p1.imag) > 0:
            mate = int(np.argmin([abs(p - p1.conjugate()) for p in poles]))
            p2 = poles.pop(mate)
        else:
            real = [i for i, p in enumerate(poles) if p.imag == 0]
            p2 = poles.pop(real[worst([poles[i] for i in real])])
        z1 = zeros.pop(int(np.argmin([abs(z - p1) for z in zeros])))
        z2 = zeros.pop(int(np.argmin([abs(z - p1) for z in zeros])))
        sections[si] = [1.0, -(z1 + z2), z1 * z2,
                        1.0, -(p1 + p2).real, (p1 * p2).real]
    sections[0, :3] *= gain
    return sections


def butter_sos(order: int, cutoff_hz: float | tuple[float, float], btype: str,
               sample_rate: float) -> np.ndarray:
    """A digital Butterworth filter as (sections, 6) float64 second-order sections.

    :param order: 1 … 12 (a band-pass has twice as many poles).
    :param cutoff_hz: the −3 dB frequency, or (low, high) for ``"bandpass"``; each strictly
        between 0 and ``sample_rate / 2``.
    :param btype: ``"lowpass"``, ``"highpass"`` or ``"bandpass"``.
    :param sample_rate: Hz.
    """
    if not (isinstance(order, int) and 1 <= order <= 12):
        raise ValueError(f"Butterworth order must be an integer 1 … 12; got {order!r}")
    if btype not in BTYPES:
        raise ValueError(f"btype must be one of {', '.join(BTYPES)}; got {btype!r}")
    edges = np.atleast_1d(np.asarray(cutoff_hz, dtype=np.float64))
    if edges.size != (2 if btype == "bandpass" else 1):
        raise ValueError(f"a {btype} takes {'two cut-offs' if btype == 'bandpass' else 'one cut-off'}"
                         f"; got {cutoff_hz!r}")
    nyquist = sample_rate / 2.0
    if not (np.all(edges > 0) and np.all(edges < nyquist) and np.all(np.diff(edges) > 0)):
        raise ValueError(f"cut-offs must rise strictly between 0 and {nyquist:g} Hz; "
                         f"got {cutoff_hz!r}")
    fs2 = 2.0 * sample_rate
    warped = fs2 * np.tan(np.pi * edges / sample_rate)  # analog rad/s that land on the edges
    proto = _analog_poles(order)
    if btype == "lowpass":
        poles, zeros, gain = proto * warped[0], np.zeros(0), warped[0] ** order
    elif btype == "highpass":
        poles, zeros = warped[0] / proto, np.zeros(order)
        gain = float(np.real(1.0 / np.prod(-proto)))
    else:
        centre, width = math.sqrt(warped[0] * warped[1]), warped[1] - warped[0]
        half = proto * width / 2.0
        root = np.sqrt(half * half - centre * centre)
        poles, zeros, gain = np.concatenate([half + root, half - root]), np.zeros(order), \
            width ** order
    # Bilinear transform: s → z = (2·fs + s)/(2·fs − s); zeros at s = ∞ land on z = −1.
    z_poles = (fs2 + poles) / (fs2 - poles)
    z_zeros = np.concatenate([(fs2 + zeros) / (fs2 - zeros), -np.ones(len(poles) - len(zeros))])
    z_gain = gain * float(np.real(np.prod(fs2 - zeros) / np.prod(fs2 - poles)))
    return _pair_sections(z_zeros, z_poles, z_gain)


def kaiser_lowpass(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """Linear-phase low-pass FIR, (taps,) float64: a sinc cut at ``cutoff`` (a fraction of
    Nyquist, 0 < cutoff < 1) under a Kaiser window of shape ``beta``, scaled to unit DC gain.

    :param taps: odd (a type-I filter, symmetric about its middle tap).
    """
    if taps < 1 or taps % 2 == 0:
        raise ValueError(f"a linear-phase low-pass here needs an odd number of taps; got {taps}")
    if not 0.0 < cutoff < 1.0:
        raise ValueError(f"cutoff must be in (0, 1) (fraction of Nyquist); got {cutoff}")
    m = np.arange(taps) - (taps - 1) / 2.0
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return h / np.sum(h)


def sos_step_state(sos: np.ndarray) -> np.ndarray:
    """The cascade's state (sections, 2) after a unit step has settled: section ``i`` sees a
    step of the DC gain of the sections before it. Scaled by a signal's first value, it
    starts a filter with no transient."""
    sos = np.asarray(sos, dtype=np.float64)
    out = np.zeros((len(sos), 2))
    scale = 1.0
    for i, (b0, b1, b2, a0, a1, a2) in enumerate(sos / sos[:, 3:4]):
        dc = (b0 + b1 + b2) / (1.0 + a1 + a2)
        out[i] = scale * np.array([b1 + b2 - (a1 + a2) * dc, b2 - a2 * dc])
        scale *= dc
    return out


def zero_phase_sos(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` filtered forward then backward through ``sos`` (zero phase, the magnitude
    response squared), (samples,) float64.

    Both ends are extended by ``3·(2·sections + 1)`` samples (fewer for a short ``x``) of odd
    reflection (``2·x[0] − x[k]``), and each pass starts from :func:`sos_step_state` times
    its first input sample — ``scipy.signal.sosfiltfilt``'s defaults, which keeps the edges
    free of start-up transients.

    :param x: (samples,) float, at least 2 samples.
    """
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"zero_phase_sos filters one signal of ≥ 2 samples; got shape {x.shape}")
    pad = min(3 * (2 * len(sos) + 1), x.size - 1)
    ext = np.concatenate([2.0 * x[0] - x[pad:0:-1], x, 2.0 * x[-1] - x[-2:-pad - 2:-1]])
    step = sos_step_state(sos)
    y = np.ascontiguousarray(ext[None, :])
    sos_filter_rows(sos, y, (step * y[0, 0])[None].copy())
    y = np.ascontiguousarray(y[:, ::-1])
    sos_filter_rows(sos, y, (step * y[0, 0])[None].copy())
    return y[0, ::-1][pad: pad + x.size].copy()

"""The neural model: text + timing conditioned generation, windowed songs, audio-to-audio.

Public methods take and return NumPy audio, ``(channels, samples)`` float32:

* :meth:`NeuralModel.generate` - one prompt, ``seconds_start``/``seconds_total`` timing;
* :meth:`NeuralModel.generate_song` - sections on a song timeline, window by window;
* :meth:`NeuralModel.transfer` - audio-to-audio with a real strength (encode, noise to the
  level ``strength`` selects, sample from there; diffusers issue #10861 explains why the
  pipeline's ``initial_audio_waveforms`` does not do this).

Randomness comes only from ``seed``: every window draws its noise from its own
``torch.Generator`` seeded from ``(seed, window)``, on the CPU, so results do not depend on
batching or on global RNG state.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ainur_cli.engines.neural import audio as au
from ainur_cli.engines.neural import windows as win
from ainur_cli.engines.neural.cards import ModelCard
from ainur_cli.engines.neural.codec import decode_chunked, encode_chunked
from ainur_cli.engines.neural.components import Components
from ainur_cli.engines.neural.conditioning import Conditioner, Velocity
from ainur_cli.engines.neural.options import check_common, check_strength, derive_seed
from ainur_cli.engines.neural.sampler import sample, sigma_schedule, strength_to_sigma

log = logging.getLogger(__name__)
Progress = Callable[[float], None]


class NeuralModel:
    """A loaded model on one device. Build it with :func:`ainur_cli.engines.neural.load_model`."""

    def __init__(self, card: ModelCard, components: Components, *, device: torch.device,
                 dtype: torch.dtype):
        self.card = card
        self.components = components
        self.device = device
        self.dtype = dtype
        # nn.Module.to: diffusers' override warns about an empty fp32-module list on casts
        for module, want in ((components.transformer, dtype), (components.vae, dtype),
                             (components.text_encoder, torch.float32),
                             (components.projection, torch.float32)):
            torch.nn.Module.to(module, device=device, dtype=want)
        vae_cfg = components.vae.config
        self.sample_rate = int(vae_cfg.sampling_rate)
        self.audio_channels = int(vae_cfg.audio_channels)
        self.hop = int(math.prod(vae_cfg.downsampling_ratios))
        self.window_frames = int(components.transformer.config.sample_size)
        self.latent_channels = int(components.transformer.config.in_channels)
        proj = components.projection.config
        self.min_seconds, self.max_seconds = float(proj.min_value), float(proj.max_value)
        d = card.defaults
        self.context_frames = round(d.context_s * self.sample_rate / self.hop)
        self.crossfade_samples = round(d.crossfade_s * self.sample_rate)
        self.conditioner = Conditioner(components, device, dtype)
        self.velocity = Velocity(components.transformer, device, dtype)

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def max_window_s(self) -> float:
        """Longest audio one window generates, in seconds."""
        return self.window_frames * self.hop / self.sample_rate

    def __repr__(self) -> str:
        return (f"NeuralModel({self.name!r}, {self.sample_rate} Hz, window "
                f"{self.max_window_s:.2f} s, device={self.device}, dtype={self.dtype})")

    def save(self, folder: str | Path) -> None:
        """Write the model in the diffusers folder layout plus ``ainur_card.json``.

        ``load_model(folder)`` then gives the same model (same card defaults, same output).
        """
        import json

        from ainur_cli.engines.neural.cards import FOLDER_CARD, card_json
        from ainur_cli.engines.neural.components import save_components

        folder = Path(folder)
        save_components(self.components, folder)
        data = card_json(self.card) | {"source": "diffusers-folder"}
        (folder / FOLDER_CARD).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def compile(self, **kwargs) -> None:
        """``torch.compile`` the DiT (GPU speed-up; the first windows pay the compile time)."""
        self.velocity.transformer = torch.compile(self.components.transformer, **kwargs)

    # -- generation -------------------------------------------------------------------------

    def generate(self, prompt: str, *, seconds_start: float = 0.0, seconds_total: float,
                 steps: int | None = None, cfg_scale: float | None = None,
                 negative_prompt: str | None = None, seed: int = 0,
                 progress: Progress | None = None, fit_window: bool = False) -> np.ndarray:
        """Audio of a piece ``seconds_total`` long, from ``seconds_start`` to its end.

        Returns (channels, round(seconds_total * sr) - round(seconds_start * sr)) float32 at
        :attr:`sample_rate`: exactly ``round(seconds_total * sr)`` samples when
        ``seconds_start`` is 0. Longer than one window is generated window by window.
        """
        for name, value in (("seconds_start", seconds_start), ("seconds_total", seconds_total)):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _range_error(name, value, f"{self.min_seconds:g}..{self.max_seconds:g}")
        if not self.min_seconds <= seconds_start < seconds_total:
            raise _range_error("seconds_start", seconds_start,
                               f"{self.min_seconds:g} <= seconds_start < seconds_total")
        if seconds_total > self.max_seconds:
            raise _range_error("seconds_total", seconds_total,
                               f"seconds_start < seconds_total <= {self.max_seconds:g}")
        song = self.generate_song([(seconds_start, seconds_total, prompt)],
                                  song_length_s=seconds_total, steps=steps, cfg_scale=cfg_scale,
                                  negative_prompt=negative_prompt, seed=seed,
                                  progress=progress, fit_window=fit_window)
        return song[:, round(seconds_start * self.sample_rate):]

    def generate_song(self, sections: Sequence[tuple[float, float, str]], *,
                      song_length_s: float, steps: int | None = None,
                      cfg_scale: float | None = None, negative_prompt: str | None = None,
                      seed: int = 0, progress: Progress | None = None,
                      continue_across_sections: bool = True, fit_window: bool = False,
                      max_batch: int | None = None) -> np.ndarray:
        """Generate ``sections`` ``(start_s, end_s, prompt)`` on a song timeline.

        Returns (channels, round(song_length_s * sr)) float32; section ``i`` owns samples
        ``[round(start_i * sr), round(end_i * sr))`` exactly; gaps between sections are
        silent. See :mod:`ainur_cli.engines.neural.windows` for how windows continue each
        other and what stays sample-exact. ``max_batch`` (default: the card's on GPU, 1 on
        CPU) samples independent windows together.
        """
        steps, cfg_scale, negative_prompt = self._options(steps, cfg_scale, negative_prompt,
                                                          seed)
        spans = win.section_samples(sections, song_length_s, self.sample_rate,
                                    self.max_seconds)
        song = round(song_length_s * self.sample_rate)
        plan = win.plan_windows(spans, song_samples=song, sample_rate=self.sample_rate,
                                hop=self.hop, window_frames=self.window_frames,
                                context_frames=self.context_frames,
                                crossfade_samples=self.crossfade_samples,
                                continue_across_sections=continue_across_sections,
                                fit_window=fit_window)
        if max_batch is None:
            max_batch = self.card.defaults.max_batch if self.device.type == "cuda" else 1
        sigmas = sigma_schedule(self.components.sampler, steps)
        tick = _Ticker(progress, len(plan) * (len(sigmas) - 1))
        out = np.zeros((self.audio_channels, song), dtype=np.float32)
        tails: dict[int, np.ndarray] = {}
        log.info("generating %.2f s in %d windows", song_length_s, len(plan))
        for group in win.batches(plan, max(1, int(max_batch))):
            frames = group[0].frames
            x0 = torch.zeros((len(group), self.latent_channels, frames), device=self.device)
            known = mask = None
            if group[0].context_frames:
                known, mask = self._context(out, group[0], len(group), frames)
            self.velocity.cond = self.conditioner.build(
                [w.prompt for w in group], [w.seconds_start for w in group],
                [w.seconds_total for w in group], cfg_scale=cfg_scale,
                negative_prompt=negative_prompt)
            noise, known_noise = self._noise([derive_seed(seed, "window", w.index)
                                              for w in group], len(sigmas), frames,
                                             with_known=known is not None)
            z = sample(self.velocity, x0, sigmas, noise, self.components.sampler, known=known,
                       known_mask=mask, known_noise=known_noise, on_step=tick)
            audio = self._decode(z)
            for w, a in zip(group, audio):
                _assemble(w, a, out, tails, self.crossfade_samples)
        tick.done()
        return out

    # -- audio to audio ---------------------------------------------------------------------

    def transfer(self, audio: np.ndarray, sample_rate: int, *, prompt: str, strength: float,
                 steps: int | None = None, cfg_scale: float | None = None,
                 negative_prompt: str | None = None, seed: int = 0,
                 progress: Progress | None = None) -> np.ndarray:
        """Restyle ``audio`` (channels, samples) at ``sample_rate`` Hz under ``prompt``.

        ``strength`` in [0, 1]: 0 returns the input through the codec (encode + decode),
        1 ignores it; in between the encoded input is noised to ``tan(strength * pi / 2)``
        (capped at sigma_max) and the sampler runs ``steps`` steps from there. Returns audio
        of the input's shape and sample rate (resampling and channel conversion inside).
        Inputs longer than a window are restyled in overlapping windows that continue each
        other's latents.
        """
        audio = au.check_audio(audio)
        rate_in = au.check_sample_rate(sample_rate)
        strength = check_strength(strength)
        steps, cfg_scale, negative_prompt = self._options(steps, cfg_scale, negative_prompt,
                                                          seed)
        if not isinstance(prompt, str):
            raise _range_error("prompt", prompt, "a string")
        x = au.to_channels(au.resample(audio, rate_in, self.sample_rate), self.audio_channels)
        n = x.shape[-1]
        if n / self.sample_rate > self.max_seconds:
            raise _range_error("audio", f"{n / self.sample_rate:.1f} s",
                               f"at most {self.max_seconds:g} s")
        frames = -(-n // self.hop)
        padded = np.pad(x, ((0, 0), (0, frames * self.hop - n)))
        z = self._encode(torch.from_numpy(padded)[None])
        if strength > 0:
            z = self._restyle_latents(z, prompt, strength, steps, cfg_scale, negative_prompt,
                                      seed, n / self.sample_rate, progress)
        y = self._decode(z)[0][:, :n]
        y = au.resample(au.to_channels(y, audio.shape[0]), self.sample_rate, rate_in)
        if progress is not None:
            progress(1.0)
        return np.ascontiguousarray(y[:, :audio.shape[1]], dtype=np.float32)

    def _restyle_latents(self, z, prompt, strength, steps, cfg_scale, negative_prompt, seed,
                         seconds_total, progress):
        cfg = self.components.sampler
        sigmas = sigma_schedule(cfg, steps, strength_to_sigma(strength, cfg))
        frames, w, k = z.shape[-1], self.window_frames, self.context_frames
        starts = [0] if frames <= w else list(range(0, frames - w, w - k)) + [frames - w]
        tick = _Ticker(progress, len(starts) * (len(sigmas) - 1))
        out = z.clone()
        done = 0  # frames of ``out`` already restyled
        for j, s in enumerate(starts):
            e = min(frames, s + w)
            known = mask = None
            if done > s:
                known = out[..., s:e]
                mask = (torch.arange(e - s, device=self.device) < done - s).view(1, 1, -1)
            self.velocity.cond = self.conditioner.build(
                [prompt], [s * self.hop / self.sample_rate], [seconds_total],
                cfg_scale=cfg_scale, negative_prompt=negative_prompt)
            noise, known_noise = self._noise([derive_seed(seed, "transfer", j)], len(sigmas),
                                             e - s, with_known=known is not None)
            out[..., s:e] = sample(self.velocity, z[..., s:e], sigmas, noise, cfg,
                                   known=known, known_mask=mask, known_noise=known_noise,
                                   on_step=tick)
            done = e
        tick.done()
        return out

    # -- helpers ----------------------------------------------------------------------------

    def _options(self, steps, cfg_scale, negative_prompt, seed):
        d = self.card.defaults
        steps = d.steps if steps is None else steps
        cfg_scale = d.cfg_scale if cfg_scale is None else cfg_scale
        negative_prompt = d.negative_prompt if negative_prompt is None else negative_prompt
        check_common(steps=steps, cfg_scale=cfg_scale, negative_prompt=negative_prompt,
                     seed=seed)
        return int(steps), float(cfg_scale), negative_prompt

    def _noise(self, seeds: list[int], points: int, frames: int, *, with_known: bool):
        """(points, B, C, T) start+step noise (and the same for the known region), on device."""
        shape = (points, self.latent_channels, frames)
        main, extra = [], []
        for s in seeds:
            gen = torch.Generator().manual_seed(s)
            main.append(torch.randn(shape, generator=gen))
            if with_known:
                extra.append(torch.randn(shape, generator=gen))
        noise = torch.stack(main, dim=1).to(self.device)
        return noise, (torch.stack(extra, dim=1).to(self.device) if with_known else None)

    def _context(self, out: np.ndarray, w: win.Window, batch: int, frames: int):
        """Encoded audio before ``w.own_start`` as known latents + mask for the first window."""
        margin = min(self.card.defaults.decode_overlap_frames, w.start_sample // self.hop)
        segment = out[:, w.start_sample - margin * self.hop:w.own_start]
        z = self._encode(torch.from_numpy(np.ascontiguousarray(segment))[None])[..., margin:]
        known = torch.zeros((batch, self.latent_channels, frames), device=self.device)
        known[0, :, :w.context_frames] = z[0, :, :w.context_frames]
        mask = torch.zeros((batch, 1, frames), dtype=torch.bool, device=self.device)
        mask[0, :, :w.context_frames] = True
        return known, mask

    def _encode(self, audio: torch.Tensor) -> torch.Tensor:
        d = self.card.defaults
        return encode_chunked(self.components.vae, audio.to(self.device), hop=self.hop,
                              chunk_frames=d.decode_chunk_frames,
                              overlap_frames=d.decode_overlap_frames)

    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        d = self.card.defaults
        audio = decode_chunked(self.components.vae, latents, chunk_frames=d.decode_chunk_frames,
                               overlap_frames=d.decode_overlap_frames)
        return audio.cpu().numpy().astype(np.float32, copy=False)


def _assemble(w: win.Window, audio: np.ndarray, out: np.ndarray, tails: dict[int, np.ndarray],
              crossfade: int) -> None:
    """Write window ``w``'s owned samples into the song and keep its tail for the next join."""
    rel = w.own_start - w.start_sample
    own = w.own_end - w.own_start
    out[:, w.own_start:w.own_end] = audio[:, rel:rel + own]
    if w.fade_in:
        weights = au.fade_weights(w.fade_in)
        old = tails.pop(w.follows)[:, :w.fade_in]
        new = audio[:, rel:rel + w.fade_in]
        out[:, w.own_start:w.own_start + w.fade_in] = old * (1 - weights) + new * weights
    tail_end = min(w.own_end + crossfade, out.shape[1], w.start_sample + audio.shape[1])
    tails[w.index] = audio[:, rel + own:rel + own + (tail_end - w.own_end)].copy()


def _range_error(field, value, allowed):
    from ainur_cli.errors import ModelError

    return ModelError("value out of range", field=field, value=value, allowed=allowed)


class _Ticker:
    """Calls ``progress(fraction)`` once per sampler step."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.count = progress, max(1, total), 0

    def __call__(self) -> None:
        self.count += 1
        if self.progress is not None:
            self.progress(min(1.0, self.count / self.total))

    def done(self) -> None:
        if self.progress is not None and self.count < self.total:
            self.progress(1.0)

"""Text + timing conditioning and the guided velocity function of the DiT.

Stable Audio conditions its DiT two ways (stable-audio-tools' ``cross_attention_cond_ids``
and ``global_cond_ids``; diffusers' ``StableAudioPipeline`` builds the same tensors):

* cross-attention tokens: the T5 hidden states of the prompt (padding tokens zeroed), then
  one ``seconds_start`` token and one ``seconds_total`` token -> (B, L + 2, D);
* a global vector prepended to the latent sequence: ``[seconds_start, seconds_total]``
  concatenated on channels -> (B, 1, 2 D) (the DiT adds the timestep embedding to it).

Classifier-free guidance batches an unconditional pass with the conditional one: its
cross-attention tokens are zeros, or the negative prompt's tokens (with the same timing
tokens) when one is given; the global timing vector is the same in both halves, as in training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import torch

from ainur_cli.engines.neural.components import Components

log = logging.getLogger(__name__)


@dataclass
class Conditioning:
    """Tensors the DiT needs for one batch of windows (on the model's device and dtype)."""

    cross: torch.Tensor       # (2B or B, L + 2, D): [uncond..., cond...] when guided
    global_: torch.Tensor     # (2B or B, 1, 2 D)
    cfg_scale: float
    guided: bool              # True when the batch holds an unconditional half


class Conditioner:
    """Turns prompts and timing into :class:`Conditioning`, caching text encodings."""

    def __init__(self, components: Components, device: torch.device, dtype: torch.dtype):
        self.c = components
        self.device = device
        self.dtype = dtype
        self._text_cache: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def text(self, prompt: str) -> torch.Tensor:
        """Projected T5 states of ``prompt``, (1, L, D) float32, padding tokens zeroed."""
        if prompt in self._text_cache:
            return self._text_cache[prompt]
        tok = self.c.tokenizer
        max_len = int(tok.model_max_length)
        enc = tok([prompt], padding="max_length", max_length=max_len, truncation=True,
                  return_tensors="pt")
        if len(tok(prompt, max_length=max_len + 1, truncation=True).input_ids) > max_len:
            log.warning("prompt longer than %d tokens was truncated: %r", max_len, prompt)
        ids = enc.input_ids.to(self.device)
        mask = enc.attention_mask.to(self.device)
        hidden = self.c.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        hidden = self.c.projection(text_hidden_states=hidden.float()).text_hidden_states
        hidden = hidden * mask[..., None].to(hidden.dtype)
        self._text_cache[prompt] = hidden
        return hidden

    @torch.no_grad()
    def timing(self, seconds_start: Sequence[float], seconds_total: Sequence[float],
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, D) embeddings of ``seconds_start`` and ``seconds_total`` (already validated)."""
        start = torch.tensor([float(s) for s in seconds_start], device=self.device)
        total = torch.tensor([float(s) for s in seconds_total], device=self.device)
        out = self.c.projection(start_seconds=start, end_seconds=total)
        return out.seconds_start_hidden_states.float(), out.seconds_end_hidden_states.float()

    @torch.no_grad()
    def build(self, prompts: Sequence[str], seconds_start: Sequence[float],
              seconds_total: Sequence[float], *, cfg_scale: float,
              negative_prompt: str | None) -> Conditioning:
        """Conditioning for a batch of windows (one prompt and timing per window)."""
        start, total = self.timing(seconds_start, seconds_total)
        text = torch.cat([self.text(p) for p in prompts], dim=0)
        cross = torch.cat([text, start, total], dim=1)
        global_ = torch.cat([start, total], dim=2)
        guided = cfg_scale != 1.0
        if guided:
            if negative_prompt:
                neg = self.text(negative_prompt).expand(len(prompts), -1, -1)
                uncond = torch.cat([neg, start, total], dim=1)
            else:
                uncond = torch.zeros_like(cross)
            cross = torch.cat([uncond, cross], dim=0)
            global_ = torch.cat([global_, global_], dim=0)
        return Conditioning(cross=cross.to(self.dtype), global_=global_.to(self.dtype),
                            cfg_scale=float(cfg_scale), guided=guided)


class Velocity:
    """``(x_in, t) -> v`` for :func:`ainur_cli.engines.neural.sampler.sample`, with CFG.

    Rotary position tables are built once per sequence length on the device (diffusers'
    pipeline rebuilds them on the CPU and copies them for every attention call).
    """

    def __init__(self, transformer: torch.nn.Module, device: torch.device, dtype: torch.dtype):
        self.transformer = transformer
        self.device = device
        self.dtype = dtype
        self._rotary: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.cond: Conditioning | None = None

    def rotary(self, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        if frames not in self._rotary:
            from diffusers.models.embeddings import get_1d_rotary_pos_embed

            dim = int(self.transformer.config.attention_head_dim) // 2
            cos, sin = get_1d_rotary_pos_embed(dim, frames + 1, use_real=True,
                                               repeat_interleave_real=False)
            self._rotary[frames] = (cos.to(self.device), sin.to(self.device))
        return self._rotary[frames]

    @torch.no_grad()
    def __call__(self, x_in: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        cond = self.cond
        inp = x_in.to(self.dtype)
        if cond.guided:
            inp = torch.cat([inp, inp], dim=0)
        v = self.transformer(inp, t, encoder_hidden_states=cond.cross,
                             global_hidden_states=cond.global_,
                             rotary_embedding=self.rotary(x_in.shape[-1]),
                             return_dict=False)[0].float()
        if not cond.guided:
            return v
        v_uncond, v_cond = v.chunk(2, dim=0)
        return v_uncond + cond.cfg_scale * (v_cond - v_uncond)

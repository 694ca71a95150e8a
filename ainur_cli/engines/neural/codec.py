"""Chunked VAE encoding and decoding (bounded memory, same result as one pass).

The Oobleck VAE is convolutional, so a chunk decoded with enough latent frames of context on
each side (more than the decoder's receptive field) gives the same samples as decoding the
whole sequence; the context is decoded and dropped. Memory then depends on the chunk, not on
the song (one 47 s stereo window at 44.1 kHz is ~2 M samples x 128 channels per activation).
"""

from __future__ import annotations

import torch


@torch.no_grad()
def decode_chunked(vae: torch.nn.Module, latents: torch.Tensor, *, chunk_frames: int,
                   overlap_frames: int) -> torch.Tensor:
    """Latents (B, C, T) -> audio (B, channels, T * hop) float32, ``chunk_frames`` at a time."""
    dtype = next(vae.parameters()).dtype
    z = latents.to(dtype)
    frames = z.shape[-1]
    if frames <= chunk_frames + 2 * overlap_frames:
        return vae.decode(z).sample.float()
    pieces = []
    for start in range(0, frames, chunk_frames):
        end = min(frames, start + chunk_frames)
        lo, hi = max(0, start - overlap_frames), min(frames, end + overlap_frames)
        audio = vae.decode(z[..., lo:hi]).sample
        per_frame = audio.shape[-1] // (hi - lo)
        pieces.append(audio[..., (start - lo) * per_frame:(end - lo) * per_frame].float())
    return torch.cat(pieces, dim=-1)


@torch.no_grad()
def encode_chunked(vae: torch.nn.Module, audio: torch.Tensor, *, hop: int, chunk_frames: int,
                   overlap_frames: int) -> torch.Tensor:
    """Audio (B, channels, N) with N a multiple of ``hop`` -> latent means (B, C, N // hop).

    The posterior mean is used (no sampling), so encoding is deterministic.
    """
    dtype = next(vae.parameters()).dtype
    x = audio.to(dtype)
    frames = x.shape[-1] // hop
    if frames <= chunk_frames + 2 * overlap_frames:
        return vae.encode(x).latent_dist.mode().float()
    pieces = []
    for start in range(0, frames, chunk_frames):
        end = min(frames, start + chunk_frames)
        lo, hi = max(0, start - overlap_frames), min(frames, end + overlap_frames)
        z = vae.encode(x[..., lo * hop:hi * hop]).latent_dist.mode()
        pieces.append(z[..., start - lo:end - lo].float())
    return torch.cat(pieces, dim=-1)

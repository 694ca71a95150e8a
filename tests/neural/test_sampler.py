"""The sampling loop and conditioning against closed forms and diffusers' own code."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ainur_cli.engines.neural.sampler import (SamplerConfig, precondition, sample,  # noqa: E402
                                              sigma_schedule, strength_to_sigma)

SAO = SamplerConfig()  # Stable Audio Open's scheduler: exponential 500 -> 0.3, then 0


def gaussian_velocity(data_std: float, sigma_data: float = 1.0):
    """The exact v-prediction for data ~ N(0, data_std^2): the ideal denoiser is
    D(x, sigma) = x * s^2 / (s^2 + sigma^2), turned into v by the preconditioning."""
    def velocity(x_in: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        sigma = math.tan(float(t) * math.pi / 2)
        c_in, c_skip, c_out, _ = precondition(sigma, sigma_data)
        x = x_in / c_in
        denoised = x * data_std**2 / (data_std**2 + sigma**2)
        return (denoised - c_skip * x) / c_out
    return velocity


def test_ode_solver_matches_the_closed_form_gaussian_flow():
    """Probability-flow ODE for Gaussian data: x(sigma) = x(T) * sqrt(s^2 + sigma^2) /
    sqrt(s^2 + sigma_T^2) down to sigma_min; the last step to 0 is the denoised mean."""
    s = 0.5
    cfg = SamplerConfig(eta=0.0)
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn((51, 1, 4, 64), generator=gen)
    sigmas = sigma_schedule(cfg, 50)
    out = sample(gaussian_velocity(s), torch.zeros(1, 4, 64), sigmas, noise, cfg)
    x_t, lo = noise[0] * sigmas[0], cfg.sigma_min
    at_min = x_t * math.sqrt(s**2 + lo**2) / math.sqrt(s**2 + sigmas[0] ** 2)
    exact = at_min * s**2 / (s**2 + lo**2)
    assert torch.allclose(out, exact, rtol=2e-3, atol=1e-4)


def test_sde_solver_lands_on_the_data_distribution():
    """SDE sampling keeps the marginal N(0, s^2 + sigma^2) down to sigma_min; the final
    denoising step then gives std s^2 / sqrt(s^2 + sigma_min^2)."""
    s = 0.5
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn((31, 2, 64, 256), generator=gen)
    out = sample(gaussian_velocity(s), torch.zeros(2, 64, 256), sigma_schedule(SAO, 30),
                 noise, SAO)
    assert float(out.std()) == pytest.approx(s**2 / math.sqrt(s**2 + SAO.sigma_min**2),
                                             rel=0.03)
    assert abs(float(out.mean())) < 0.01


def test_known_region_is_kept_exactly():
    gen = torch.Generator().manual_seed(2)
    noise, known_noise = torch.randn((2, 5, 1, 4, 32), generator=gen)
    known = torch.randn((1, 4, 32), generator=gen)
    mask = (torch.arange(32) < 10).view(1, 1, -1)
    out = sample(gaussian_velocity(1.0), torch.zeros(1, 4, 32), sigma_schedule(SAO, 4), noise,
                 SAO, known=known, known_mask=mask, known_noise=known_noise)
    assert torch.equal(out[..., :10], known[..., :10])
    assert not torch.equal(out[..., 10:], known[..., 10:])


@pytest.mark.parametrize("steps", [2, 3, 10, 20])
@pytest.mark.parametrize("final", ["zero", "sigma_min"])
def test_same_result_as_diffusers_cosine_dpm_solver(steps, final):
    """Given the same noise, our loop reproduces diffusers' CosineDPMSolverMultistepScheduler
    (the scheduler Stable Audio Open ships), step for step."""
    from diffusers import CosineDPMSolverMultistepScheduler

    config = {"sigma_min": 0.3, "sigma_max": 500, "sigma_data": 1.0,
              "sigma_schedule": "exponential", "solver_order": 2,
              "prediction_type": "v_prediction", "final_sigmas_type": final,
              "lower_order_final": True}
    ours_cfg = SamplerConfig.from_scheduler_config(config)
    scheduler = CosineDPMSolverMultistepScheduler(**config)
    scheduler.set_timesteps(steps)
    sigmas = sigma_schedule(ours_cfg, steps)
    assert np.allclose(scheduler.sigmas.numpy(), np.float32(sigmas))
    gen = torch.Generator().manual_seed(steps)
    noise = torch.randn((steps + 1, 1, 4, 32), generator=gen)
    mix = torch.randn((4, 4), generator=gen) * 0.3

    def velocity(x_in, t):
        return torch.einsum("ij,bjt->bit", mix, x_in) * torch.cos(3 * t)

    ours = sample(velocity, torch.zeros(1, 4, 32), sigmas, noise, ours_cfg)
    drawn = iter(noise[1:])
    scheduler.noise_sampler = lambda sigma, sigma_next: next(drawn)
    x = noise[0] * sigmas[0]
    for t in scheduler.timesteps:
        v = velocity(scheduler.scale_model_input(x, t), t.reshape(1))
        x = scheduler.step(v, t, x).prev_sample
    assert torch.allclose(ours, x, atol=1e-5, rtol=1e-5)


def test_strength_to_sigma_and_schedules():
    assert strength_to_sigma(0.5, SAO) == pytest.approx(1.0)
    assert strength_to_sigma(1.0, SAO) == 500 and strength_to_sigma(0.9999, SAO) == 500
    assert strength_to_sigma(0.1, SAO) < strength_to_sigma(0.2, SAO)
    s = sigma_schedule(SAO, 10, sigma_start=2.0)
    assert len(s) == 11 and s[0] == 2.0 and s[-2] == pytest.approx(0.3) and s[-1] == 0.0
    assert sigma_schedule(SAO, 10, sigma_start=0.1) == [0.1, 0.0]  # below sigma_min: 1 step
    full = sigma_schedule(SAO, 100)
    assert full[0] == 500 and all(a > b for a, b in zip(full, full[1:]))


def test_conditioning_equals_diffusers_pipeline(tiny):
    """Cross-attention tokens and the global timing vector are exactly what diffusers'
    StableAudioPipeline builds (prompt, negative prompt, seconds_start/seconds_total)."""
    from diffusers import StableAudioPipeline

    c = tiny.components
    pipe = StableAudioPipeline(vae=c.vae, text_encoder=c.text_encoder,
                               projection_model=c.projection, tokenizer=c.tokenizer,
                               transformer=c.transformer, scheduler=None)
    cpu = torch.device("cpu")
    for negative in ("low quality", None):
        embeds = pipe.encode_prompt("soft piano", cpu, True, negative_prompt=negative)
        start, end = pipe.encode_duration(0.5, 3.0, cpu, negative is not None, 1)
        cross = torch.cat([embeds, start, end], dim=1)
        if negative is None:  # the pipeline zeroes the whole unconditional half
            cross = torch.cat([torch.zeros_like(cross), cross])
            start, end = torch.cat([start, start]), torch.cat([end, end])
        ours = tiny.conditioner.build(["soft piano"], [0.5], [3.0], cfg_scale=7.0,
                                      negative_prompt=negative)
        assert torch.equal(ours.cross, cross)
        assert torch.equal(ours.global_, torch.cat([start, end], dim=2))


def test_chunked_codec_matches_one_pass(tiny):
    from ainur_cli.engines.neural.codec import decode_chunked, encode_chunked

    vae = tiny.components.vae
    z = torch.randn((1, 4, 150), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        audio = vae.decode(z).sample
        latents = vae.encode(audio).latent_dist.mode()
    chunked = decode_chunked(vae, z, chunk_frames=40, overlap_frames=16)
    assert chunked.shape == audio.shape
    assert torch.allclose(chunked, audio, atol=1e-4 * float(audio.abs().max()))
    enc = encode_chunked(vae, audio, hop=128, chunk_frames=40, overlap_frames=16)
    assert torch.allclose(enc, latents, atol=1e-4 * float(latents.abs().max()))

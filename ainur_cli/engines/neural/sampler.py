"""DPM-Solver++ (2M, SDE or ODE) for v-objective models, with CFG done by the caller.

Noise levels are sigmas of the variance-exploding view used by k-diffusion and by diffusers'
``CosineDPMSolverMultistepScheduler``: a latent at level ``sigma`` is ``x0 + sigma * noise``.
A v-objective network sees ``x * c_in`` and the time ``t = atan(sigma) * 2 / pi`` and predicts
``v``; the denoised latent is ``c_skip * x + c_out * v`` with ``sigma_data`` scaling.

The loop is ours (not a diffusers scheduler) because Ainur needs what the scheduler does not
give: starting from any sigma (audio-to-audio strength), keeping a known region fixed
(continuation of the previous window), per-window noise from explicit generators, batched
independent windows, and no host/device syncs per step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

import torch

from ainur_cli.errors import ModelError


@dataclass(frozen=True)
class SamplerConfig:
    """Noise schedule and solver settings (read from a diffusers ``scheduler_config.json``)."""

    sigma_min: float = 0.3         # lowest nonzero noise level of the schedule
    sigma_max: float = 500.0       # noise level of pure noise (start of generation)
    sigma_data: float = 1.0        # data standard deviation of the preconditioning
    schedule: str = "exponential"  # "exponential" (log-linear) or "karras"
    rho: float = 7.0               # Karras schedule exponent
    solver_order: int = 2          # 1 = DPM-Solver++ 1S (DDIM-like), 2 = 2M
    final_sigma_zero: bool = True  # last step lands on sigma 0 (else on sigma_min)
    lower_order_final: bool = True  # first order on the last step when < 15 steps
    eta: float = 1.0               # 1 = SDE-DPM-Solver++ (the scheduler's), 0 = ODE

    @classmethod
    def from_scheduler_config(cls, cfg: dict[str, Any], *, file: str | None = None):
        """Validate a diffusers scheduler config; only the v-objective is supported."""
        pred = cfg.get("prediction_type", "v_prediction")
        if pred != "v_prediction":
            raise ModelError("unsupported diffusion objective", file=file,
                             field="prediction_type", value=pred, allowed="v_prediction")
        schedule = cfg.get("sigma_schedule", "exponential")
        if schedule not in ("exponential", "karras"):
            raise ModelError("unsupported sigma schedule", file=file, field="sigma_schedule",
                             value=schedule, allowed="exponential, karras")
        solver = cfg.get("solver_type", "midpoint")
        if solver != "midpoint":
            raise ModelError("unsupported solver", file=file, field="solver_type",
                             value=solver, allowed="midpoint")
        order = int(cfg.get("solver_order", 2))
        if order not in (1, 2):
            raise ModelError("unsupported solver order", file=file, field="solver_order",
                             value=order, allowed="1 or 2")
        final = cfg.get("final_sigmas_type", "zero")
        if final not in ("zero", "sigma_min"):
            raise ModelError("unsupported final sigma", file=file, field="final_sigmas_type",
                             value=final, allowed="zero, sigma_min")
        lo, hi = float(cfg.get("sigma_min", 0.3)), float(cfg.get("sigma_max", 500.0))
        if not 0 < lo < hi:
            raise ModelError("sigma_min must be positive and below sigma_max", file=file,
                             field="sigma_min", value=lo, allowed=f"0 < sigma_min < {hi}")
        return cls(sigma_min=lo, sigma_max=hi, sigma_data=float(cfg.get("sigma_data", 1.0)),
                   schedule=schedule, rho=float(cfg.get("rho", 7.0)), solver_order=order,
                   final_sigma_zero=final == "zero",
                   lower_order_final=bool(cfg.get("lower_order_final", True)))

    def to_scheduler_config(self) -> dict[str, Any]:
        """The equivalent diffusers ``CosineDPMSolverMultistepScheduler`` config."""
        d = asdict(self)
        return {"_class_name": "CosineDPMSolverMultistepScheduler",
                "sigma_min": d["sigma_min"], "sigma_max": d["sigma_max"],
                "sigma_data": d["sigma_data"], "sigma_schedule": d["schedule"],
                "rho": d["rho"], "solver_order": d["solver_order"], "solver_type": "midpoint",
                "prediction_type": "v_prediction",
                "final_sigmas_type": "zero" if self.final_sigma_zero else "sigma_min",
                "lower_order_final": self.lower_order_final, "euler_at_final": False,
                "num_train_timesteps": 1000}


def strength_to_sigma(strength: float, config: SamplerConfig) -> float:
    """Noise level where audio-to-audio starts: ``tan(strength * pi / 2)``, capped at sigma_max.

    ``strength`` is the diffusion time of the cosine (v-objective) schedule: 0 keeps the input,
    0.5 is signal-to-noise 1, 1 starts from pure noise (the input is ignored).
    """
    if strength >= 1.0:
        return config.sigma_max
    return min(math.tan(strength * math.pi / 2), config.sigma_max)


def sigma_schedule(config: SamplerConfig, steps: int, sigma_start: float | None = None,
                   ) -> list[float]:
    """``steps + 1`` noise levels from ``sigma_start`` (default sigma_max) down to 0.

    Below sigma_min there is nothing to schedule: a start at or under it is one step to 0.
    """
    hi = config.sigma_max if sigma_start is None else float(sigma_start)
    lo = config.sigma_min
    final = 0.0 if config.final_sigma_zero else lo
    if hi <= lo:
        return [hi, 0.0]
    if steps == 1:
        return [hi, final]
    ramp = [i / (steps - 1) for i in range(steps)]
    if config.schedule == "karras":
        a, b = hi ** (1 / config.rho), lo ** (1 / config.rho)
        sig = [(a + r * (b - a)) ** config.rho for r in ramp]
    else:
        sig = [math.exp(math.log(hi) + r * (math.log(lo) - math.log(hi))) for r in ramp]
    sig[0], sig[-1] = hi, lo  # exact ends
    return sig + [final]


def precondition(sigma: float, sigma_data: float) -> tuple[float, float, float, float]:
    """``(c_in, c_skip, c_out, t)`` of the v-objective at noise level ``sigma``."""
    s2, d2 = sigma * sigma, sigma_data * sigma_data
    c_in = 1.0 / math.sqrt(s2 + d2)
    return c_in, d2 / (s2 + d2), -sigma * sigma_data / math.sqrt(s2 + d2), \
        math.atan(sigma) * 2 / math.pi


VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def sample(velocity: VelocityFn, x0: torch.Tensor, sigmas: list[float], noise: torch.Tensor,
           config: SamplerConfig, *, known: torch.Tensor | None = None,
           known_mask: torch.Tensor | None = None, known_noise: torch.Tensor | None = None,
           on_step: Callable[[], None] | None = None) -> torch.Tensor:
    """Run DPM-Solver++(2M) from ``sigmas[0]`` to ``sigmas[-1]``; returns the final latent.

    :param velocity: ``(x_in, t) -> v``; ``x_in`` is the preconditioned latent (B, C, T) and
        ``t`` the network time in [0, 1), a (1,) float32 tensor on the latent's device;
        guidance is applied inside.
    :param x0: clean starting latent (B, C, T) float32: zeros for generation, the encoded
        input for audio-to-audio. The sampler starts from ``x0 + sigmas[0] * noise[0]``.
    :param noise: (n + 1, B, C, T) float32 standard normal noise, index 0 for the start and
        ``i + 1`` for the SDE noise of step ``i`` (n = len(sigmas) - 1).
    :param known: (B, C, T) latents that must come out unchanged where ``known_mask``
        (B, 1, T) is true (continuation): after every step they are re-noised to the
        current level with ``known_noise`` (same layout as ``noise``) and written back.
    """
    n = len(sigmas) - 1
    coefs = [precondition(s, config.sigma_data) for s in sigmas[:-1]]
    net_t = torch.tensor([c[3] for c in coefs], dtype=torch.float32, device=x0.device)
    x = x0 + sigmas[0] * noise[0]
    if known is not None:
        x = torch.where(known_mask, known + sigmas[0] * known_noise[0], x)
    old_denoised, h_last = None, None
    for i in range(n):
        s, t = sigmas[i], sigmas[i + 1]
        if t == s:  # zero-length step (a "sigma_min" final level): nothing changes
            if on_step is not None:
                on_step()
            continue
        c_in, c_skip, c_out, _ = coefs[i]
        denoised = c_skip * x + c_out * velocity(x * c_in, net_t[i:i + 1])
        if t == 0.0:
            x, h = denoised, None
        else:
            h = math.log(s / t)  # step in log-SNR (lambda = -log sigma)
            eta_h = config.eta * h
            x = (t / s * math.exp(-eta_h)) * x + (-math.expm1(-h - eta_h)) * denoised
            lower = config.lower_order_final and n < 15 and i == n - 1
            if config.solver_order == 2 and old_denoised is not None and not lower:
                r = h_last / h
                x = x + (0.5 * -math.expm1(-h - eta_h) / r) * (denoised - old_denoised)
            if config.eta > 0:
                x = x + (t * math.sqrt(-math.expm1(-2.0 * eta_h))) * noise[i + 1]
        if known is not None:
            x = torch.where(known_mask, known + t * known_noise[i + 1], x)
        old_denoised, h_last = denoised, h
        if on_step is not None:
            on_step()
    return x

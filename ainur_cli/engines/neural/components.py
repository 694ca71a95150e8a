"""The five parts of a Stable-Audio-style model: build them from a card, load, save.

Parts (diffusers/transformers classes, not re-implemented here): ``tokenizer`` (T5),
``text_encoder`` (transformers ``T5EncoderModel``), ``projection`` (diffusers
``StableAudioProjectionModel``: text projection + ``seconds_start``/``seconds_total`` number
conditioners), ``transformer`` (diffusers ``StableAudioDiTModel``), ``vae`` (diffusers
``AutoencoderOobleck``), plus the sampler settings read from ``scheduler/scheduler_config.json``.

On disk they use the diffusers folder layout of ``stabilityai/stable-audio-open-1.0``
(``model_index.json`` + one subfolder per part), so a real checkpoint and a saved tiny model
load through the same code. Random weights are drawn from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import json
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ainur_cli.engines.neural.cards import ModelCard, check_folder, read_folder_config
from ainur_cli.engines.neural.sampler import SamplerConfig
from ainur_cli.errors import ModelError

log = logging.getLogger(__name__)

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()/&+#%"
_DEFAULT_WORDS = ["music", "piano", "drums", "bass", "guitar", "with", "and"]
_MODEL_INDEX = {
    "_class_name": "StableAudioPipeline",
    "projection_model": ["stable_audio", "StableAudioProjectionModel"],
    "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"],
    "text_encoder": ["transformers", "T5EncoderModel"],
    "tokenizer": ["transformers", "T5TokenizerFast"],
    "transformer": ["diffusers", "StableAudioDiTModel"],
    "vae": ["diffusers", "AutoencoderOobleck"],
}


@dataclass
class Components:
    """The loaded parts of one model (torch modules in eval mode)."""

    tokenizer: Any
    text_encoder: torch.nn.Module
    projection: torch.nn.Module
    transformer: torch.nn.Module
    vae: torch.nn.Module
    sampler: SamplerConfig

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"text_encoder": self.text_encoder, "projection_model": self.projection,
                "transformer": self.transformer, "vae": self.vae}


def _ctor_args(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("_")}


def build_tokenizer(spec: dict[str, Any]):
    """A T5 (Unigram) tokenizer from an in-memory vocabulary: no files, no downloads.

    Whole words from ``spec["vocab_words"]`` score better than single characters, so known
    words become one token and anything else is spelled out (unknown characters -> ``<unk>``).
    """
    import transformers

    words = spec.get("vocab_words") or _DEFAULT_WORDS
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + w, -1.0) for w in dict.fromkeys(words)]
    pieces += [(c, -4.0) for c in _LETTERS]
    max_len = int(spec.get("model_max_length", 128))
    if int(transformers.__version__.split(".")[0]) >= 5:
        from transformers import T5Tokenizer

        return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=max_len)
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors  # transformers 4.x
    from tokenizers.models import Unigram
    from transformers import T5TokenizerFast

    tok = Tokenizer(Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single=["$A", "</s>"],
                                                       special_tokens=[("</s>", 1)])
    return T5TokenizerFast(tokenizer_object=tok, model_max_length=max_len, extra_ids=0,
                           pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def _t5_config(arch: dict[str, Any], vocab_size: int | None):
    from transformers import T5Config

    args = _ctor_args(arch)
    if vocab_size is not None:
        args["vocab_size"] = vocab_size
    return T5Config(**args, is_encoder_decoder=False, use_cache=False)


@torch.no_grad()
def randomize_(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Redraw every parameter of ``module`` from ``generator`` (deterministic, no global RNG).

    Matrices and kernels get N(0, 1/fan_in); a weight-normed layer's gain is set to the norm
    of its direction so the effective weight has that scale; biases, Snake parameters and
    norm shifts are zero, norm scales one; other vectors (Fourier features) get N(0, 1).
    Nothing is left at a constructor's (global-RNG) value.
    """
    for name, p in sorted(module.named_parameters(), key=lambda kv: kv[0]):
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("weight_g", "original0"):
            continue  # set from the direction below
        if p.ndim >= 2:
            fan_in = math.prod(p.shape[1:])
            p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(max(fan_in, 1)))
        elif leaf in ("bias", "alpha", "beta"):
            p.zero_()
        elif "norm" in name:
            p.fill_(1.0)
        else:
            p.copy_(torch.randn(p.shape, generator=generator))
    for mod in module.modules():  # weight norm: gain = |direction| so weight = direction
        g, v = getattr(mod, "weight_g", None), getattr(mod, "weight_v", None)
        if isinstance(g, torch.nn.Parameter) and isinstance(v, torch.Tensor):
            dims = [d for d in range(v.ndim) if g.shape[d] == 1]
            g.copy_(v.norm(dim=dims, keepdim=True))
        par = getattr(mod, "parametrizations", None)
        if par is not None and "weight" in par:
            g, v = par.weight.original0, par.weight.original1
            dims = [d for d in range(v.ndim) if g.shape[d] == 1]
            g.copy_(v.norm(dim=dims, keepdim=True))


def build_random(card: ModelCard, *, seed: int | None = None) -> Components:
    """Every part built from the card's architecture with weights drawn from ``seed``.

    Used for the ``unittest`` card (tiny) and by the benchmark (full size: speed does not
    depend on the weights). Same card + seed gives identical weights.
    """
    from diffusers import AutoencoderOobleck, StableAudioDiTModel
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import T5EncoderModel

    arch = card.architecture
    gen = torch.Generator().manual_seed(card.init_seed if seed is None else seed)
    tokenizer = build_tokenizer(arch["tokenizer"])
    vocab = arch["text_encoder"].get("vocab_size") or len(tokenizer)
    parts = {
        "text_encoder": T5EncoderModel(_t5_config(arch["text_encoder"], vocab)),
        "projection": StableAudioProjectionModel(**_ctor_args(arch["projection_model"])),
        "transformer": StableAudioDiTModel(**_transformer_args(arch["transformer"])),
        "vae": AutoencoderOobleck(**_ctor_args(arch["vae"])),
    }
    for name in ("text_encoder", "projection", "transformer", "vae"):  # fixed draw order
        randomize_(parts[name], gen)
        parts[name].eval().requires_grad_(False)
    params = {f"{part}.{n}": p for part in parts for n, p in parts[part].named_parameters()}
    for key, factor in card.init_scales.items():
        if key not in params:
            raise ModelError("init_scales names no parameter", file=card.file,
                             field=f"init_scales.{key}")
        with torch.no_grad():
            params[key].mul_(factor)
    return Components(tokenizer=tokenizer, sampler=SamplerConfig.from_scheduler_config(
        arch["scheduler"], file=card.file), **parts)


def _transformer_args(config: dict[str, Any]) -> dict[str, Any]:
    args = _ctor_args(config)
    if "sample_size" in args:  # the published config stores 1024.0
        args["sample_size"] = int(float(args["sample_size"]))
    return args


def save_components(components: Components, folder: Path) -> None:
    """Write ``components`` in the diffusers folder layout (safetensors weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps(_MODEL_INDEX, indent=2) + "\n")
    for sub, module in components.modules().items():
        with _quiet_hub():
            module.save_pretrained(folder / sub, safe_serialization=True)
    components.tokenizer.save_pretrained(folder / "tokenizer")
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(
        json.dumps(components.sampler.to_scheduler_config(), indent=2) + "\n")


def load_components(folder: Path, card: ModelCard | None, *, dtype: torch.dtype) -> Components:
    """Load every part from a diffusers-layout ``folder`` on the CPU.

    Raises :class:`ModelError` naming the missing files of an incomplete folder, a VAE whose
    sample rate is not the card's, or a part that cannot be read.
    """
    import importlib.util

    from diffusers import AutoencoderOobleck, StableAudioDiTModel
    from diffusers.pipelines.stable_audio import StableAudioProjectionModel
    from transformers import AutoTokenizer, T5EncoderModel

    check_folder(folder, card)
    # without accelerate diffusers cannot skip the random init; say so once, not per part
    lazy = {"low_cpu_mem_usage": importlib.util.find_spec("accelerate") is not None}
    vae_cfg = read_folder_config(folder, "vae")
    if card is not None and vae_cfg.get("sampling_rate") != card.sample_rate:
        raise ModelError("wrong sample rate: the folder's VAE does not match the model card",
                         file=str(folder / "vae" / "config.json"), field="sampling_rate",
                         value=vae_cfg.get("sampling_rate"), allowed=str(card.sample_rate))
    sched = read_folder_config(folder, "scheduler")
    sampler = SamplerConfig.from_scheduler_config(
        sched, file=str(folder / "scheduler" / "scheduler_config.json"))
    t5_key = "dtype" if _transformers_major() >= 5 else "torch_dtype"
    small = torch.float32  # conditioning runs once per window: keep it in full precision
    loaders = {
        "tokenizer": lambda p: AutoTokenizer.from_pretrained(p, local_files_only=True),
        "text_encoder": lambda p: T5EncoderModel.from_pretrained(
            p, local_files_only=True, **{t5_key: small}),
        "projection": lambda p: StableAudioProjectionModel.from_pretrained(
            p, local_files_only=True, torch_dtype=small, **lazy),
        "transformer": lambda p: StableAudioDiTModel.from_pretrained(
            p, local_files_only=True, torch_dtype=dtype, **lazy),
        "vae": lambda p: AutoencoderOobleck.from_pretrained(
            p, local_files_only=True, torch_dtype=dtype, **lazy),
    }
    subdir = {"projection": "projection_model"}
    parts = {}
    for name, load in loaders.items():
        path = folder / subdir.get(name, name)
        try:
            with _quiet_hub():
                parts[name] = load(str(path))
        except (OSError, ValueError, RuntimeError, KeyError, json.JSONDecodeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"cannot load the {name} weights: {first}", file=str(path)) from None
        if name != "tokenizer":
            parts[name].eval().requires_grad_(False)
            _realign_(parts[name])
    log.info("loaded %s from %s", ", ".join(parts), folder)
    return Components(sampler=sampler, **parts)


@torch.no_grad()
def _realign_(module: torch.nn.Module) -> None:
    """Copy tensors that safetensors left off 64-byte boundaries.

    CPU kernels pick their vector path by alignment, so a misaligned copy of the same weights
    gives slightly different sums; realigned, a saved model reproduces its output bit for bit.
    """
    for p in list(module.parameters()) + list(module.buffers()):
        if p.device.type == "cpu" and p.data_ptr() % 64:
            p.data = p.data.clone()


@contextmanager
def _quiet_hub():
    """No tqdm bars from transformers/diffusers while loading (the CLI draws its own)."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    t_on, d_on = tlog.is_progress_bar_enabled(), dlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    dlog.disable_progress_bar()
    try:
        yield
    finally:
        if t_on:
            tlog.enable_progress_bar()
        if d_on:
            dlog.enable_progress_bar()


def _transformers_major() -> int:
    import transformers

    return int(transformers.__version__.split(".")[0])

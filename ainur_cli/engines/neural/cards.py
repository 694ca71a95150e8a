"""Model cards: one JSON file per named neural model in the repository's ``models/`` folder.

A card says what a model is (architecture config of every component, sample rate, window
length), which files its weights folder must hold (with sha256 where we can state one), its
licence and how a user obtains the weights. Cards are data; this module reads and checks them
and never imports torch, so ``ainur models list`` works without the neural extra.

Weights live outside the repository, in a models folder the user points at
(``--models-dir`` / ``AINUR_MODELS_DIR``; default ``$XDG_DATA_HOME/ainur/models``, i.e.
``~/.local/share/ainur/models``): the model ``NAME`` is the subfolder ``NAME/`` in the diffusers
folder layout. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ainur_cli.errors import ModelError

#: The repository's folder of cards (top-level ``models/``).
CARDS_DIR = Path(__file__).resolve().parents[3] / "models"
MODELS_DIR_ENV = "AINUR_MODELS_DIR"
SOURCES = ("diffusers-folder", "random-init")

#: Files of a Stable Audio model in the diffusers folder layout; ``a|b`` means either will do.
DIFFUSERS_LAYOUT = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "projection_model/config.json",
    "projection_model/diffusion_pytorch_model.safetensors",
    "text_encoder/config.json",
    "text_encoder/model.safetensors|text_encoder/model.safetensors.index.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/tokenizer.json|tokenizer/spiece.model",
)


@dataclass(frozen=True)
class FileSpec:
    """One expected file of a weights folder."""

    path: str                    # relative path; "a|b" = either file satisfies it
    sha256: str | None = None    # None: no checksum can be stated honestly, the check is skipped

    def candidates(self) -> list[str]:
        return self.path.split("|")


@dataclass(frozen=True)
class GenerationDefaults:
    """Sampling defaults of a model (every one can be overridden per call)."""

    steps: int = 100                 # sampler steps (model evaluations) for a full generation
    cfg_scale: float = 7.0           # classifier-free guidance scale
    negative_prompt: str | None = None
    context_s: float = 3.0           # audio of the previous window a new window continues from
    crossfade_s: float = 0.05        # crossfade after every window join (section boundaries too)
    decode_chunk_frames: int = 256   # VAE decoding chunk, in latent frames (bounds memory)
    decode_overlap_frames: int = 16  # context decoded on each side of a chunk and dropped
    max_batch: int = 4               # independent windows sampled together (GPU)


@dataclass(frozen=True)
class ModelCard:
    """A parsed, validated model card (see ``docs/neural.md`` for the JSON fields)."""

    name: str
    description: str
    source: str                          # "diffusers-folder" | "random-init"
    sample_rate: int                     # Hz, of the VAE
    audio_channels: int
    max_window_s: float                  # longest audio one window generates
    architecture: dict[str, Any]         # constructor config of every component
    defaults: GenerationDefaults
    files: tuple[FileSpec, ...] = ()
    licence: dict[str, Any] = field(default_factory=dict)
    obtain: str = ""
    checksum_note: str = ""
    init_seed: int = 0                   # random-init cards: seed of the weights
    init_scales: dict[str, float] = field(default_factory=dict)  # "part.param" -> multiplier
    file: str | None = None              # the card's JSON path

    @property
    def needs_weights(self) -> bool:
        return self.source == "diffusers-folder"


def resolve_models_dir(models_dir: str | Path | None = None) -> Path:
    """The models folder: the argument, else ``$AINUR_MODELS_DIR``, else the XDG data folder."""
    if models_dir:
        return Path(models_dir).expanduser()
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ainur" / "models"


def list_cards(cards_dir: Path = CARDS_DIR) -> list[str]:
    """Names of every card (file stems), sorted."""
    if not cards_dir.is_dir():
        return []
    return sorted(p.stem for p in cards_dir.glob("*.json"))


def load_card(name: str, cards_dir: Path = CARDS_DIR) -> ModelCard:
    """The card called ``name`` (or the card JSON at path ``name``)."""
    path = Path(name)
    if path.suffix != ".json" or not path.is_file():
        path = cards_dir / f"{name}.json"
    if not path.is_file():
        raise ModelError("unknown model", field="model", value=name,
                         allowed=", ".join(list_cards(cards_dir)) or "no cards found in "
                         + str(cards_dir))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"cannot read model card: {e}", file=str(path)) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"model card is not valid JSON: {e.msg}", file=str(path),
                         line=e.lineno) from None
    return parse_card(data, file=str(path))


def parse_card(data: Any, *, file: str | None = None) -> ModelCard:
    """Validate a card's JSON object; every problem names the card file and the field."""
    def need(key: str, kind: type | tuple[type, ...], where: dict = None, prefix: str = ""):
        where = data if where is None else where
        if key not in where:
            raise ModelError("missing field", file=file, field=prefix + key)
        value = where[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ModelError("wrong type", file=file, field=prefix + key, value=value,
                             allowed=getattr(kind, "__name__", str(kind)))
        return value

    if not isinstance(data, dict):
        raise ModelError("a model card must be a JSON object", file=file)
    source = need("source", str)
    if source not in SOURCES:
        raise ModelError("unknown weights source", file=file, field="source", value=source,
                         allowed=", ".join(SOURCES))
    sample_rate = need("sample_rate", int)
    if not 8000 <= sample_rate <= 384000:
        raise ModelError("sample rate out of range", file=file, field="sample_rate",
                         value=sample_rate, allowed="8000..384000 Hz")
    arch = need("architecture", dict)
    for part in ("transformer", "vae", "projection_model", "text_encoder", "tokenizer",
                 "scheduler"):
        need(part, dict, arch, "architecture.")
    vae_rate = arch["vae"].get("sampling_rate")
    if vae_rate != sample_rate:
        raise ModelError("the VAE's sampling_rate differs from the card's sample_rate",
                         file=file, field="architecture.vae.sampling_rate", value=vae_rate,
                         allowed=str(sample_rate))
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        raise ModelError("wrong type", file=file, field="defaults", allowed="object")
    known = GenerationDefaults.__dataclass_fields__
    unknown = sorted(set(raw_defaults) - set(known))
    if unknown:
        raise ModelError("unknown field", file=file, field=f"defaults.{unknown[0]}",
                         allowed=", ".join(known))
    files = []
    for i, f in enumerate(data.get("files", [])):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            raise ModelError("each file needs a path", file=file, field=f"files[{i}]")
        sha = f.get("sha256")
        if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
            raise ModelError("sha256 must be 64 hex digits or null", file=file,
                             field=f"files[{i}].sha256", value=sha)
        files.append(FileSpec(f["path"], sha))
    if source == "diffusers-folder" and not files:
        files = [FileSpec(p) for p in DIFFUSERS_LAYOUT]
    return ModelCard(
        name=need("name", str), description=data.get("description", ""), source=source,
        sample_rate=sample_rate, audio_channels=int(arch["vae"].get("audio_channels", 2)),
        max_window_s=float(need("max_window_s", (int, float))), architecture=arch,
        defaults=GenerationDefaults(**raw_defaults), files=tuple(files),
        licence=data.get("licence", {}), obtain=data.get("obtain", ""),
        checksum_note=data.get("checksum_note", ""), init_seed=int(data.get("init_seed", 0)),
        init_scales=_init_scales(data.get("init_scales", {}), file), file=file)


def _init_scales(raw: Any, file: str | None) -> dict[str, float]:
    parts = ("text_encoder", "projection", "transformer", "vae")
    if not isinstance(raw, dict):
        raise ModelError("wrong type", file=file, field="init_scales", allowed="object")
    for key, value in raw.items():
        if key.split(".", 1)[0] not in parts or not isinstance(value, (int, float)):
            raise ModelError("init scale must be '<part>.<parameter>': number", file=file,
                             field=f"init_scales.{key}", value=value,
                             allowed="parts: " + ", ".join(parts))
    return {k: float(v) for k, v in raw.items()}


def missing_files(folder: Path, files: tuple[FileSpec, ...] | list[FileSpec]) -> list[str]:
    """Expected files absent from ``folder`` (an ``a|b`` entry counts when either exists)."""
    return [f.path.replace("|", " or ") for f in files
            if not any((folder / c).is_file() for c in f.candidates())]


def folder_files(card: ModelCard | None) -> tuple[FileSpec, ...]:
    return card.files if card is not None and card.files else tuple(
        FileSpec(p) for p in DIFFUSERS_LAYOUT)


def check_folder(folder: Path, card: ModelCard | None = None) -> None:
    """Raise :class:`ModelError` unless ``folder`` holds every file the card expects."""
    what = card.name if card else "the model"
    if not folder.is_dir():
        raise ModelError(f"weights folder of {what} not found", file=str(folder),
                         allowed="its diffusers folder there, or another place given by "
                         "--models-dir / AINUR_MODELS_DIR / --weights (see docs/neural.md)")
    missing = missing_files(folder, folder_files(card))
    if missing:
        raise ModelError(f"weights folder of {what} is incomplete; missing: "
                         f"{', '.join(missing)}", file=str(folder),
                         allowed="every file of the diffusers layout (see docs/neural.md)")


def sha256_of(path: Path, chunk_bytes: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()


def verify_checksums(folder: Path, card: ModelCard) -> dict[str, str]:
    """Per expected file: ``ok``, ``MISMATCH``, ``missing`` or ``skipped (no sha256 in card)``."""
    result = {}
    for f in card.files:
        present = [c for c in f.candidates() if (folder / c).is_file()]
        if not present:
            result[f.path] = "missing"
        elif f.sha256 is None:
            result[f.path] = "skipped (no sha256 in card)"
        else:
            result[f.path] = "ok" if sha256_of(folder / present[0]) == f.sha256 else "MISMATCH"
    return result


def read_folder_config(folder: Path, part: str) -> dict[str, Any]:
    """``folder/part/config.json`` (or the scheduler's config) as a dict, errors named."""
    name = "scheduler_config.json" if part == "scheduler" else "config.json"
    path = folder / part / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError("model folder is incomplete; missing: " + f"{part}/{name}",
                         file=str(folder)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"cannot read config: {e}", file=str(path)) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"config is not valid JSON: {e.msg}", file=str(path),
                         line=e.lineno) from None
    if not isinstance(data, dict):
        raise ModelError("config must be a JSON object", file=str(path))
    return data


FOLDER_CARD = "ainur_card.json"


def card_from_folder(folder: Path) -> ModelCard:
    """The card of a weights folder given by path.

    A folder saved by Ainur carries its card as ``ainur_card.json``; any other diffusers
    folder is described from its own configs, with the context and crossfade scaled to its
    window.
    """
    check_folder(folder)
    if (folder / FOLDER_CARD).is_file():
        card = load_card(str(folder / FOLDER_CARD))
        return replace(card, source="diffusers-folder", files=tuple(
            FileSpec(p) for p in DIFFUSERS_LAYOUT))
    arch = {part: read_folder_config(folder, part)
            for part in ("transformer", "vae", "projection_model", "text_encoder", "scheduler")}
    arch["tokenizer"] = {}
    vae = arch["vae"]
    hop = math.prod(int(r) for r in vae.get("downsampling_ratios", [2, 4, 4, 8, 8]))
    rate = vae.get("sampling_rate", 44100)
    window_s = int(float(arch["transformer"].get("sample_size", 1024))) * hop / rate
    defaults = {"context_s": min(3.0, window_s / 8), "crossfade_s": min(0.05, window_s / 40)}
    return parse_card({"name": folder.name, "description": f"diffusers folder {folder}",
                       "source": "diffusers-folder", "sample_rate": rate,
                       "max_window_s": window_s, "architecture": arch, "defaults": defaults},
                      file=str(folder))


def card_json(card: ModelCard) -> dict[str, Any]:
    """``card`` as the JSON object :func:`parse_card` reads (for saving beside weights)."""
    return {"name": card.name, "description": card.description, "source": card.source,
            "sample_rate": card.sample_rate, "max_window_s": card.max_window_s,
            "architecture": card.architecture, "defaults": asdict(card.defaults),
            "licence": card.licence, "obtain": card.obtain, "init_seed": card.init_seed,
            "init_scales": card.init_scales}


def resolve_model(name_or_path: str | Path, models_dir: str | Path | None = None,
                  ) -> tuple[ModelCard, Path | None]:
    """The card and weights folder for a card name, a card JSON path or a weights folder.

    A card name ``NAME`` looks for its weights in ``<models dir>/NAME``; a random-init card
    needs no folder (``None``); a folder path is read as an uncatalogued diffusers folder.
    """
    text = str(name_or_path)
    if text in list_cards():
        card = load_card(text)
    elif text.endswith(".json") and Path(text).is_file():
        card = load_card(text)
    elif Path(text).expanduser().is_dir():
        folder = Path(text).expanduser()
        return card_from_folder(folder), folder
    else:
        raise ModelError("unknown model (not a card name, card file or weights folder)",
                         field="model", value=text,
                         allowed=", ".join(list_cards()) + ", or a folder in the diffusers layout")
    if not card.needs_weights:
        return card, None
    return card, resolve_models_dir(models_dir) / card.name

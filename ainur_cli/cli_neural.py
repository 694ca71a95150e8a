"""Neural-engine commands: ``ainur models list|verify`` and ``ainur transfer``.

The main CLI registers them (``main.add_command(models_group)``,
``main.add_command(transfer_command)``). Nothing here imports torch at import time: the
engine is imported inside the commands, after checking that the ``neural`` extra is
installed (otherwise :class:`MissingDependencyError` says ``pip install 'ainur[neural]'``).
``models list`` reads only the cards and the weights folders, so it works without torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ainur_cli.errors import EngineError, ExportError

_models_dir_option = click.option(
    "--models-dir", type=click.Path(file_okay=False, path_type=Path), envvar="AINUR_MODELS_DIR",
    help="Folder holding one weights folder per model (NAME/ in the diffusers layout). "
         "Default: $AINUR_MODELS_DIR, else ~/.local/share/ainur/models.")


def _console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _quiet(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("quiet"))


# -- models ---------------------------------------------------------------------------------

@click.group("models")
def models_group() -> None:
    """Neural model cards and their weights (nothing is ever downloaded)."""


def _card_rows(models_dir: Path | None) -> tuple[Path, list[dict]]:
    from ainur_cli.engines.neural.cards import (list_cards, load_card, missing_files,
                                                resolve_models_dir)

    root = resolve_models_dir(models_dir)
    rows = []
    for name in list_cards():
        card = load_card(name)
        row = {"name": name, "description": card.description, "sample_rate": card.sample_rate,
               "max_window_s": round(card.max_window_s, 3),
               "licence": card.licence.get("name", ""), "card": card.file}
        if not card.needs_weights:
            row.update(status="built-in", folder=None, missing=[])
        else:
            folder = root / name
            missing = missing_files(folder, card.files) if folder.is_dir() else \
                [f.path.replace("|", " or ") for f in card.files]
            status = "absent" if not folder.is_dir() else "incomplete" if missing else "present"
            row.update(status=status, folder=str(folder), missing=missing)
        rows.append(row)
    return root, rows


@models_group.command("list")
@_models_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(models_dir: Path | None, as_json: bool) -> None:
    """Every model card and whether its weights are in the models folder."""
    from ainur_cli.engines.neural.deps import INSTALL_HINT, missing_neural_packages

    root, rows = _card_rows(models_dir)
    absent = missing_neural_packages()
    if as_json:
        click.echo(json.dumps({"models_dir": str(root), "neural_packages_missing": absent,
                               "install": INSTALL_HINT if absent else None, "models": rows},
                              indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"models folder: {root}", title_justify="left")
    for col in ("model", "rate", "window", "weights", "licence"):
        table.add_column(col, justify="right" if col in ("rate", "window") else "left",
                         no_wrap=col in ("model", "rate", "window"))
    for r in rows:
        weights = {"built-in": "[green]built-in (random)[/]", "present": "[green]present[/]",
                   "absent": "[yellow]absent[/]"}.get(r["status"], "")
        if r["status"] == "incomplete":
            weights = f"[red]incomplete[/] ({len(r['missing'])} missing)"
        table.add_row(r["name"], f"{r['sample_rate']} Hz", f"{r['max_window_s']:.2f} s",
                      weights, escape(r["licence"]))
    con = _console(stderr=False)
    con.print(table)
    for r in rows:
        if r["status"] == "incomplete":
            con.print(f"{r['name']}: {escape(r['folder'])} lacks "
                      + escape(", ".join(r["missing"])))
    if absent:
        con.print(f"[yellow]neural extra not installed[/] (missing: {', '.join(absent)}): "
                  f"{escape(INSTALL_HINT)}")
    if any(r["status"] == "absent" for r in rows):
        con.print("weights are never downloaded: see docs/neural.md or `ainur models verify "
                  "NAME` for where to put them")


@models_group.command("verify")
@click.argument("name")
@_models_dir_option
@click.option("--weights", type=click.Path(file_okay=False, path_type=Path),
              help="The weights folder (default: <models dir>/NAME).")
def models_verify(name: str, models_dir: Path | None, weights: Path | None) -> None:
    """Check a model's weights folder: files present, VAE sample rate, sha256 where known."""
    from ainur_cli.engines.neural.cards import (check_folder, read_folder_config,
                                                resolve_model, verify_checksums)
    from ainur_cli.errors import ModelError

    card, folder = resolve_model(name, models_dir)
    if not card.needs_weights:
        click.echo(f"{card.name}: built from its card, no weights to verify")
        return
    folder = weights or folder
    check_folder(folder, card)
    rate = read_folder_config(folder, "vae").get("sampling_rate")
    if rate != card.sample_rate:
        raise ModelError("wrong sample rate: the folder's VAE does not match the model card",
                         file=str(folder / "vae" / "config.json"), field="sampling_rate",
                         value=rate, allowed=str(card.sample_rate))
    con = _console(stderr=False)
    for path, status in verify_checksums(folder, card).items():
        con.print(f"{status:>28}  {path}")
    if card.checksum_note:
        con.print(card.checksum_note)
    con.print(f"[green]{card.name}: all expected files present[/] in {folder}")


# -- transfer -------------------------------------------------------------------------------

def _read_audio(path: Path):
    """(channels, samples) float32 and the sample rate of an audio file."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise EngineError(f"cannot read audio: {e}", file=str(path)) from None
    if data.shape[0] == 0:
        raise EngineError("audio file is empty", file=str(path))
    return data.T.copy(), int(rate)


@click.command("transfer")
@click.argument("input_path", metavar="IN_AUDIO",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prompt", required=True, help="What the result should sound like.")
@click.option("--strength", type=float, default=0.5, show_default=True,
              help="0 = keep the input, 1 = ignore it.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.wav or .flac), same length and sample rate as the input.")
@click.option("--model", "model_name", default="stable-audio-open-1.0", show_default=True,
              help="Model card name (see `ainur models list`) or a weights folder.")
@click.option("--weights", type=click.Path(file_okay=False, path_type=Path),
              help="Weights folder for the model (default: <models dir>/<model>).")
@_models_dir_option
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--steps", type=click.IntRange(1, 1000), help="Sampler steps (default: the card's).")
@click.option("--cfg", "cfg_scale", type=float, help="Guidance scale (default: the card's).")
@click.option("--negative-prompt", help="What the result should not sound like.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True)
@click.option("--dtype", type=click.Choice(["auto", "float32", "float16", "bfloat16"]),
              default="auto", show_default=True, help="auto: bf16/fp16 on GPU, fp32 on CPU.")
@click.option("--bit-depth", type=click.Choice(["16", "24", "32f"]), default="24",
              show_default=True)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.pass_context
def transfer_command(ctx: click.Context, input_path: Path, prompt: str, strength: float,
                     out_path: Path, model_name: str, weights: Path | None,
                     models_dir: Path | None, seed: int, steps: int | None,
                     cfg_scale: float | None, negative_prompt: str | None, device: str,
                     dtype: str, bit_depth: str, force: bool, as_json: bool) -> None:
    """Restyle IN_AUDIO under --prompt (audio-to-audio with the neural engine)."""
    from ainur_cli.engines.neural.deps import require_neural
    from ainur_cli.engines.neural.options import check_strength

    require_neural("ainur transfer")
    check_strength(strength)
    fmt = out_path.suffix.lower().lstrip(".")
    if fmt not in ("wav", "flac"):
        raise ExportError("unsupported output format", file=str(out_path), value=out_path.suffix,
                          allowed=".wav or .flac")
    if out_path.exists() and not force:
        raise ExportError("output file exists", file=str(out_path), allowed="a new path, or --force")
    audio, rate = _read_audio(input_path)
    from ainur_cli.engines.neural import load_model

    model = load_model(model_name, models_dir=models_dir, device=device, dtype=dtype,
                       weights=weights)
    kwargs = dict(prompt=prompt, strength=strength, steps=steps, cfg_scale=cfg_scale,
                  negative_prompt=negative_prompt, seed=seed)
    if _quiet(ctx) or as_json:
        result = model.transfer(audio, rate, **kwargs)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]transfer"), BarColumn(), TimeElapsedColumn(),
                      console=_console(), transient=True) as bar:
            task = bar.add_task("transfer", total=1.0)
            result = model.transfer(audio, rate, progress=lambda f: bar.update(
                task, completed=f), **kwargs)
    _write_atomically(out_path, result, rate, bit_depth, fmt)
    summary = {"input": str(input_path), "output": str(out_path), "model": model.name,
               "prompt": prompt, "strength": strength, "seed": seed, "sample_rate": rate,
               "channels": int(result.shape[0]), "duration_s": result.shape[1] / rate}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not _quiet(ctx):
        _console(stderr=False).print(
            f"{out_path}: {summary['duration_s']:.2f} s, {rate} Hz, {summary['channels']} ch "
            f"({model.name}, strength {strength:g}, seed {seed})")


def _write_atomically(path: Path, audio, rate: int, bit_depth: str, fmt: str) -> None:
    """Write to a hidden temporary file beside ``path``, then rename it into place."""
    from ainur_cli.export.audio import write_audio

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(path.parent / f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        write_audio(tmp, audio, rate, bit_depth=bit_depth, fmt=fmt)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

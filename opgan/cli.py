"""Command line: ``opgan train | sample | export | invert | interpolate | classifier | book``.

Distributed training: ``torchrun --nproc_per_node 4 -m opgan train --preset paper --data cats.zip --out runs/paper``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
import warnings
from pathlib import Path

from opgan.presets import PRESETS
from opgan.study.registry import MODELS
from opgan.train import TrainConfig


def _field_type(dataclass_type: type, name: str) -> type:
    hints = typing.get_type_hints(dataclass_type)
    hint = hints[name]
    if typing.get_origin(hint) is tuple:
        return hint
    args = [a for a in typing.get_args(hint) if a is not type(None)]  # X | None -> X
    return args[0] if args else hint


OPTION_HELP = {
    "k": "style rows per layer (1 = StyleGAN2, the channel count = the paper's model)",
    "data": "training images: fashion-mnist:train, an image folder or a zip archive",
    "r1_gamma": "R1 weight of a k = 1 model",
    "r1_gamma_rows": "R1 weight of a model with k > 1 rows",
    "style_mixing": "probability of mixing two latents' whole slot matrices",
    "pl_weight": "path-length regularization weight (0: off)",
    "mapping_lr_mul": "learning-rate multiplier of the mapping network",
    "affine_lr_mul": "learning-rate multiplier of the affine (w -> style) layers",
    "ema_images": "G EMA half-life in images",
    "mixed_precision": "bfloat16 autocast (CUDA only)",
    "threads": "torch CPU threads (0: PyTorch's default)",
    "export_at": "also write the generator after these many images (generator-150k.pt, ...)",
}


def _shown(value: object) -> str:
    return "none" if value in ("", None) else str(value)


def _add_dataclass_options(parser: argparse.ArgumentParser, dataclass_type: type, skip: set[str], section: str) -> None:
    """One option per field; its help shows the value each preset gives it (the effective default)."""
    for f in dataclasses.fields(dataclass_type):
        if f.name in skip:
            continue
        kind = _field_type(dataclass_type, f.name)
        flag = "--" + f.name.replace("_", "-")
        values = {name: row[section][f.name] for name, row in PRESETS.items() if f.name in row[section]}
        if values and len(set(map(repr, values.values()))) == 1:
            help_text = f"default {_shown(next(iter(values.values())))} at every preset"
        elif values:
            help_text = "default: " + ", ".join(f"{name} {_shown(value)}" for name, value in values.items())
        else:  # a run option that no preset sets
            help_text = f"default {_shown(f.default)}"
        if f.name in OPTION_HELP:
            help_text = f"{OPTION_HELP[f.name]}; {help_text}"
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            parser.add_argument(
                flag, dest=f.name, type=item, nargs="+", default=None, metavar=item.__name__.upper(), help=help_text
            )
        else:
            parser.add_argument(
                flag, dest=f.name, type=kind, default=None, metavar=kind.__name__.upper(), help=help_text
            )


def build_parser() -> argparse.ArgumentParser:
    from opgan.networks import ModelConfig

    parser = argparse.ArgumentParser(prog="opgan", description="Overparameterized StyleGAN2: train, sample, invert.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train a model (resumable; run under torchrun for DDP)",
        description="Train a generator/discriminator pair. Options left out take the preset's value.",
    )
    train.add_argument("--preset", choices=sorted(PRESETS), default="cpu", help="named scale (default cpu)")
    train.add_argument("--out", required=True, help="run folder: checkpoint.pt, generator.pt, log.jsonl, samples")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint.pt")
    train.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="a model of the preset's sweep, e.g. cpu-k64-seed1 (its k, seed and variant options); "
        f"known: {', '.join(MODELS)}",
    )
    model_group = train.add_argument_group("model")
    _add_dataclass_options(model_group, ModelConfig, set(), "model")
    train_group = train.add_argument_group("training")
    _add_dataclass_options(train_group, TrainConfig, {"model", "preset"}, "train")

    sample = _model_command(
        commands, "sample", "save a grid of random samples", "Save a grid of samples of a trained generator."
    )
    sample.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", required=True, help="PNG file to write")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--truncation", type=float, default=1.0, help="truncation psi (default 1: none)")
    sample.add_argument("--scale", type=int, default=2, help="enlarge pixels this many times (default 2)")
    sample.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")

    export = _model_command(
        commands,
        "export",
        "write a small generator-only checkpoint and its provenance",
        "Keep G_ema, config and provenance of a full checkpoint; beside OUT, write OUT.json with the "
        "run's provenance and the FD-VGG16 of its samples against the data's held-out images.",
        "a run's checkpoint.pt",
    )
    export.add_argument("--out", required=True)
    export.add_argument(
        "--fd-images", type=int, default=1000, help="samples and test images for FD-VGG16 (0: skip; default 1000)"
    )
    invert = _model_command(
        commands,
        "invert",
        "invert images into a latent space",
        "Optimize one code per image so that the generator reproduces it. Writes results.csv, "
        "grid.png (targets above reconstructions), reconstructions/, codes/ and provenance.json into --out.",
    )
    invert.add_argument(
        "--images",
        required=True,
        help="a folder, zip or image file (any size/colour: centre-cropped, resized, converted "
        "to the model's channels), or fashion-mnist:test[:N] / fashion-mnist:train[:N]",
    )
    _add_inversion_options(invert)
    invert.add_argument("--batch", type=int, default=16, help="images inverted at once (default 16)")
    invert.add_argument("--out", required=True, help="output folder")

    interp = _model_command(
        commands,
        "interpolate",
        "interpolate between two codes or two images",
        "A strip of frames between two codes (from `opgan invert`'s codes/ folder) or two images "
        "(inverted first; the strip then starts and ends with the targets).",
    )
    source = interp.add_mutually_exclusive_group(required=True)
    source.add_argument("--codes", nargs=2, metavar=("A", "B"), help="two code files written by opgan invert")
    source.add_argument("--images", nargs=2, metavar=("A", "B"), help="two image files, inverted first")
    interp.add_argument("--frames", type=int, default=8, help="frames from A to B, endpoints included (default 8)")
    _add_inversion_options(interp)
    interp.add_argument("--out", required=True, help="PNG file to write")

    classifier = commands.add_parser(
        "classifier",
        help="train the Fashion-MNIST classifier that scores interpolation midpoints",
        description="Train the small classifier of opgan.study.classifier on Fashion-MNIST's train split and save it "
        "(float16, with its accuracy on test images 0-999). The book uses checkpoints/fashion-mnist-classifier.pt.",
    )
    classifier.add_argument(
        "--out", default=None, help="file to write (default checkpoints/fashion-mnist-classifier.pt)"
    )
    classifier.add_argument("--epochs", type=int, default=3, help="passes over the 60,000 images (default 3)")
    classifier.add_argument("--seed", type=int, default=0)
    classifier.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: PyTorch's default)")

    book = commands.add_parser(
        "book",
        help="run the experiment notebooks at a scale and build the Jupyter Book",
        description="Execute every notebook of the reproduction (_config.yml) with papermill at a scale into the "
        "output folder, check that each figure cell made a figure, then run `jupyter-book build` on it.",
    )
    book.add_argument(
        "--scale", default="cpu", help="a scale declared in _config.yml: smoke, cpu or paper (default cpu)"
    )
    book.add_argument("--out", default=None, help="output folder (default: the book folder, book/)")
    book.add_argument("--config", default="_config.yml", help="the reproduction file (default _config.yml)")
    book.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (e.g. 02_reconstruction)")
    book.add_argument("--no-build", action="store_true", help="execute the notebooks but do not build the HTML book")
    book.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a notebook parameter (VALUE read as YAML) in every notebook that declares it; repeatable",
    )
    return parser


def _model_command(
    commands, name: str, help_text: str, description: str, checkpoint_help: str = "checkpoint.pt or generator.pt"
) -> argparse.ArgumentParser:
    """A subcommand that works on a trained model, given as --checkpoint."""
    parser = commands.add_parser(name, help=help_text, description=description)
    parser.add_argument("--checkpoint", required=True, help=checkpoint_help)
    return parser


def _add_inversion_options(parser: argparse.ArgumentParser) -> None:
    from opgan.invert import InversionConfig
    from opgan.networks import SPACES

    defaults = InversionConfig()  # the schedule's fractions are the same at every scale
    group = parser.add_argument_group("inversion (options left out take the preset's value)")
    group.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="cpu",
        help="scale whose inversion settings are the defaults (default cpu); "
        + "; ".join(
            f"{name}: " + ", ".join(f"{key} {value}" for key, value in spec["invert"].items() if key != "record_every")
            for name, spec in PRESETS.items()
        ),
    )
    group.add_argument("--space", choices=SPACES, default="w+", help="latent space (default w+)")
    group.add_argument("--steps", type=int, help="optimization steps")
    group.add_argument("--lr", type=float, help="Adam learning rate")
    group.add_argument("--warmup", type=float, help=f"fraction of steps ramping the lr up (default {defaults.warmup})")
    group.add_argument(
        "--rampdown", type=float, help=f"fraction of steps ramping it down (default {defaults.rampdown})"
    )
    group.add_argument("--lpips", choices=["vgg", "alex", "none"], help="LPIPS network of the loss (the paper: vgg)")
    group.add_argument("--mse-weight", type=float, help="weight of an added MSE term")
    group.add_argument("--seed", type=int, default=0, help="seed of z initializations (default 0)")
    group.add_argument(
        "--snapshots",
        type=float,
        nargs="+",
        metavar="FRACTION",
        help="also keep the codes these fractions of the way through the steps (snapshots.pt), e.g. 0.25 0.5 0.75",
    )
    group.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def _inversion_config(args: argparse.Namespace):
    from opgan.presets import inversion_config

    chosen = {"lpips_net": None if args.lpips == "none" else args.lpips} if args.lpips else {}
    return dataclasses.replace(
        inversion_config(
            args.preset,
            space=args.space,
            steps=args.steps,
            lr=args.lr,
            warmup=args.warmup,
            rampdown=args.rampdown,
            mse_weight=args.mse_weight,
            seed=args.seed,
            snapshots=tuple(getattr(args, "snapshots", None) or ()),
        ),
        record_every=0,
        **chosen,
    )


def run_train(args: argparse.Namespace) -> int:
    from opgan.errors import ConfigError
    from opgan.networks import ModelConfig
    from opgan.presets import make_config
    from opgan.study.registry import find_model
    from opgan.train import train

    model_names = {f.name for f in dataclasses.fields(ModelConfig)}
    model_overrides = {n: getattr(args, n) for n in model_names if getattr(args, n) is not None}
    train_names = {f.name for f in dataclasses.fields(TrainConfig)} - {"model", "preset"}
    train_overrides = {n: getattr(args, n) for n in train_names if getattr(args, n) is not None}
    if args.resume:
        saved = Path(args.out) / "config.json"
        if not (Path(args.out) / "checkpoint.pt").is_file():
            raise ConfigError(f"--resume given but {args.out}/checkpoint.pt does not exist")
        import json

        cfg = TrainConfig.from_dict(json.loads(saved.read_text()))
        if model_overrides:
            raise ConfigError(f"--resume keeps the saved architecture; drop {sorted(model_overrides)}")
        cfg = dataclasses.replace(cfg, **train_overrides)
    elif args.model:
        spec = find_model(args.model)
        if spec.scale != args.preset:
            raise ConfigError(f"model {args.model} belongs to the {spec.scale} preset, not {args.preset}")
        base = spec.config()
        model = dataclasses.replace(base.model, **model_overrides)
        cfg = dataclasses.replace(base, model=model, **train_overrides)
    else:
        cfg = make_config(args.preset, **model_overrides, **train_overrides)
    if not cfg.data:
        raise ConfigError(f"preset {cfg.preset!r} needs --data (an image folder or zip archive)")
    summary = train(cfg, args.out, resume=args.resume)
    state = "finished" if summary["finished"] else "stopped (resume with --resume)"
    print(
        f"{state} at {summary['images_seen']} images, {summary['wall_seconds']:.0f} s of training; "
        f"run folder {args.out}"
    )
    return 0 if summary["finished"] else 130


def run_sample(args: argparse.Namespace) -> int:
    from opgan.checkpoint import load_generator
    from opgan.environment import pick_device
    from opgan.files import save_image_grid

    generator, _ = load_generator(args.checkpoint, pick_device(args.device))
    save_image_grid(generator.sample(args.n, args.seed, args.truncation), args.out, scale=args.scale)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from opgan.study.sweep import export_model

    export_model(args.checkpoint, args.out, args.fd_images)
    print(f"wrote {args.out} and {args.out}.json")
    return 0


def run_invert(args: argparse.Namespace) -> int:
    from opgan.checkpoint import load_generator
    from opgan.data import load_images
    from opgan.distributed import close_distributed, setup_distributed
    from opgan.results import invert_to_folder

    cfg = _inversion_config(args)
    rank, world, device = setup_distributed(args.device)  # under torchrun: the images split across processes
    try:
        generator, _ = load_generator(args.checkpoint, device)
        images = load_images(args.images, generator.cfg.resolution, generator.cfg.img_channels, split="all")
        summary = invert_to_folder(
            generator,
            images,
            cfg,
            args.out,
            batch=args.batch,
            checkpoint=args.checkpoint,
            progress=rank == 0,
            rank=rank,
            world=world,
        )
    finally:
        close_distributed()
    if summary:
        print(summary)
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    from opgan.checkpoint import load_generator
    from opgan.environment import pick_device
    from opgan.interpolate import interpolation_strip

    generator, _ = load_generator(args.checkpoint, pick_device(args.device))
    interpolation_strip(
        generator, args.out, args.frames, codes=args.codes, images=args.images, cfg=_inversion_config(args)
    )
    print(f"wrote {args.out}")
    return 0


def run_book(args: argparse.Namespace) -> int:
    import importlib.util
    import time

    from opgan.errors import ConfigError

    if importlib.util.find_spec("papermill") is None or importlib.util.find_spec("yaml") is None:
        raise ConfigError("papermill and jupyter-book are missing; install them with: pip install 'opgan[book]'")
    import yaml

    from opgan.study.book import build_book, load_reproduction, run_notebooks

    overrides = {}
    for setting in args.set:
        name, equals, value = setting.partition("=")
        if not equals or not name.isidentifier():
            raise ConfigError(f"--set takes NAME=VALUE, got {setting!r}")
        overrides[name] = yaml.safe_load(value)
    start = time.perf_counter()
    executed = run_notebooks(
        args.scale,
        args.out,
        args.config,
        args.only,
        starting=lambda name, parameters: print(f"[{args.scale}] {name}: {parameters}", flush=True),
        overrides=overrides,
    )
    print(f"executed {len(executed)} notebooks in {time.perf_counter() - start:.0f} s")
    if not args.no_build:
        folder = (
            Path(args.out) if args.out else Path(args.config).resolve().parent / load_reproduction(args.config)["book"]
        )
        index = build_book(folder)
        print(f"built {index} ({time.perf_counter() - start:.0f} s in all)")
    return 0


def run_classifier(args: argparse.Namespace) -> int:
    import torch

    from opgan.study.classifier import CLASSIFIER_FILE, train_classifier

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else CLASSIFIER_FILE
    record = train_classifier(out, epochs=args.epochs, seed=args.seed)
    print(f"wrote {out}: accuracy {record['accuracy_test_0_999']:.3f} on Fashion-MNIST test images 0-999")
    return 0


def main(argv: list[str] | None = None) -> int:
    from opgan.errors import OpganError

    args = build_parser().parse_args(argv)
    handlers = {
        "train": run_train,
        "sample": run_sample,
        "export": run_export,
        "invert": run_invert,
        "interpolate": run_interpolate,
        "classifier": run_classifier,
        "book": run_book,
    }

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        # a user reads what went wrong with their input, not the library line that noticed it
        print(f"opgan {args.command}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            return handlers[args.command](args)
        except OpganError as error:  # anything else is a bug and keeps its traceback
            print(f"opgan {args.command}: error: {error}", file=sys.stderr)
            return getattr(error, "exit_code", 2)  # 2: what was given; 1: what happened (a full disk)


if __name__ == "__main__":
    raise SystemExit(main())

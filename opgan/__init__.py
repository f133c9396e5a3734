"""opgan: StyleGAN2 with an overparameterized (k-row) latent space, its training and inversion.

Reproduces *Overparameterization Improves StyleGAN Inversion* (Poirier-Ginter et al., arXiv 2205.06304).

The method's public names, imported on first use so that ``import opgan`` stays light::

    from opgan import ModelConfig, Generator, make_config, train, load_generator, InversionConfig, invert

    cfg = make_config("cpu", k=64)                 # a preset's row with overrides (opgan.presets)
    train(cfg, "runs/k64")                         # resumable: train(cfg, "runs/k64", resume=True)
    G, meta = load_generator("runs/k64/generator.pt")
    result = invert(G, targets, InversionConfig(space="w+"))   # targets: float images in [-1, 1], NCHW

``opgan.study`` is the reproduction (the book's models, measurements, claims and pages); nothing
of the method imports it.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable

__version__ = "0.1.0"

# public name -> the method module that defines it
PUBLIC = {
    "Generator": "networks",
    "ModelConfig": "networks",
    "TrainConfig": "train",
    "train": "train",
    "make_config": "presets",
    "InversionConfig": "invert",
    "invert": "invert",
    "load_generator": "checkpoint",
}
__all__ = sorted(PUBLIC)


def __getattr__(name: str):
    if name not in PUBLIC:
        raise AttributeError(f"module 'opgan' has no attribute {name!r}")
    module = importlib.import_module(f"opgan.{PUBLIC[name]}")
    # `train` and `invert` are modules as well as functions: the module is returned, and calling it
    # calls the function (`module_calls`)
    return module if module.__name__ == f"opgan.{name}" else getattr(module, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(PUBLIC))


def module_calls(module_name: str, function: Callable) -> None:
    """Makes the module `module_name` callable as `function`: importing a submodule sets the package's
    attribute of that name to the module, so ``opgan.train`` is the module ``opgan/train.py`` however
    it is reached, and ``opgan.train(cfg, out)`` must still train."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return function(*args, **kwargs)

    sys.modules[module_name].__class__ = CallableModule

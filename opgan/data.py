"""Datasets as in-memory uint8 tensors [N, C, H, W], converted to float [-1, 1] per batch.

Sources (one string names them all, see :func:`load_images`):
  ``fashion-mnist:train`` / ``fashion-mnist:test[:N]``  Fashion-MNIST's own split, padded to 32x32.
  ``path/to/folder`` or ``path/to/archive.zip``        PNG/JPEG/... images (e.g. AFHQv2, FFHQ),
                                                       centre-cropped and resized; a seeded
                                                       held-out split via ``split``.

Unreadable files in a folder or archive are skipped with a warning that names each of them (one
bad file in 16,000 should not stop a day's training); a source with no readable image is an error.
"""

from __future__ import annotations

import gzip
import io
import os
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from opgan.errors import OpganError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataError(OpganError, ValueError):
    """A data source that cannot be used; the message names the culprit."""


@dataclass
class ImageSet:
    """Images as uint8 [N, C, H, W], with the names they came from."""

    images: torch.Tensor
    names: list[str]
    source: str

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def resolution(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def subset(self, indices: list[int] | torch.Tensor) -> ImageSet:
        indices = torch.as_tensor(indices, dtype=torch.long)
        return ImageSet(self.images[indices], [self.names[i] for i in indices.tolist()], self.source)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (clamped)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


# --------------------------------------------------------------------------------------------
# Fashion-MNIST


def find_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Folder holding the four IDX gz files: `root`, $OPGAN_FASHION_MNIST, the Debian package, the
    download cache, or (when `download`, announced with a warning per file) a fresh download."""
    candidates = [Path(p) for p in (root, os.environ.get("OPGAN_FASHION_MNIST")) if p]
    candidates += [Path(p) for p in FASHION_MNIST_DIRS]
    cache = Path(os.environ.get("OPGAN_CACHE", Path.home() / ".cache" / "opgan")) / "fashion-mnist"
    candidates.append(cache)
    needed = [name for pair in FASHION_MNIST_FILES.values() for name in pair]
    for folder in candidates:
        if all((folder / name).is_file() for name in needed):
            return folder
    if root is not None:
        missing = [name for name in needed if not (Path(root) / name).is_file()]
        raise DataError(f"Fashion-MNIST folder {root} lacks {', '.join(missing)}")
    if download:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            for name in needed:
                if not (cache / name).is_file():
                    # announced: a download is a side effect a user should see (the CLI prints it on one line)
                    warnings.warn(
                        f"Fashion-MNIST is not installed: downloading {FASHION_MNIST_URL}{name} into {cache}",
                        stacklevel=2,
                    )
                    partial = cache / (name + ".part")
                    urllib.request.urlretrieve(FASHION_MNIST_URL + name, partial)
                    partial.replace(cache / name)
            return cache
        except OSError as error:
            download_error = error
    else:
        download_error = None
    raise DataError(
        "Fashion-MNIST not found. Install it with `apt-get install dataset-fashion-mnist` (Debian), "
        "or put the four IDX .gz files in a folder and set OPGAN_FASHION_MNIST to it"
        + (f" (download failed: {download_error})" if download_error else "")
    )


def read_idx_images(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">i4")
    if magic != 2051 or len(data) != 16 + count * rows * cols:
        raise DataError(f"{path} is not an IDX image file (magic {magic}, {len(data)} bytes)")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def read_idx_labels(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = np.frombuffer(data[:8], dtype=">i4")
    if magic != 2049 or len(data) != 8 + count:
        raise DataError(f"{path} is not an IDX label file (magic {magic})")
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def load_fashion_mnist(split: str = "train", root: str | os.PathLike | None = None, pad_to: int = 32) -> ImageSet:
    """Fashion-MNIST's own train (60k) or test (10k) split as [N, 1, pad_to, pad_to] uint8."""
    if split not in FASHION_MNIST_FILES:
        raise DataError(f"Fashion-MNIST split must be 'train' or 'test', got {split!r}")
    folder = find_fashion_mnist(root)
    image_file, label_file = FASHION_MNIST_FILES[split]
    pixels = read_idx_images(folder / image_file)
    labels = read_idx_labels(folder / label_file)
    pad = (pad_to - pixels.shape[1]) // 2
    images = torch.from_numpy(np.pad(pixels, ((0, 0), (pad, pad), (pad, pad)))).unsqueeze(1)
    names = [f"fashion-mnist-{split}-{i:05d}-{FASHION_MNIST_CLASSES[label]}" for i, label in enumerate(labels)]
    return ImageSet(images.contiguous(), names, f"fashion-mnist:{split}")


# --------------------------------------------------------------------------------------------
# Image folders and zip archives


def prepare_image(image: Image.Image, resolution: int, channels: int, name: str = "image") -> np.ndarray:
    """Any PIL image -> [channels, resolution, resolution] uint8: convert mode, centre-crop, resize.
    An image smaller than half the resolution gets a warning that names it."""
    if image.mode in ("P", "PA", "LA", "RGBA", "I", "I;16", "F", "CMYK", "YCbCr", "1"):
        image = image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB")
    if image.mode == "RGBA":  # composite transparency onto white rather than keeping a black matte
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    image = image.convert("L" if channels == 1 else "RGB")
    width, height = image.size
    side = min(width, height)
    if side * 2 < resolution:  # usable, but mostly interpolation: say which one
        warnings.warn(
            f"{name}: {width}x{height} px is enlarged more than 2x to {resolution}x{resolution}", stacklevel=2
        )
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.LANCZOS)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _decode(data: bytes | Path, resolution: int, channels: int, name: str) -> np.ndarray:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with Image.open(source) as image:
        image.load()
        return prepare_image(image, resolution, channels, name)


def load_image_source(path: str | os.PathLike, resolution: int, channels: int, limit: int | None = None) -> ImageSet:
    """Every readable image of a folder (recursively) or zip archive, sorted by name."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"image source {path} does not exist")
    arrays, names, skipped = [], [], []
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        entries = [(str(p.relative_to(path)), p) for p in files]
        reader = None
    elif zipfile.is_zipfile(path):
        reader = zipfile.ZipFile(path)
        entries = sorted((name, name) for name in reader.namelist() if Path(name).suffix.lower() in IMAGE_SUFFIXES)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        entries, reader = [(path.name, path)], None
    else:
        raise DataError(f"{path} is neither a folder, a zip archive nor an image file")
    if not entries:
        raise DataError(f"{path} holds no image files (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    try:
        for name, item in entries:
            if limit is not None and len(arrays) >= limit:
                break
            try:
                data = reader.read(item) if reader is not None else item
                arrays.append(_decode(data, resolution, channels, name))
                names.append(name)
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError, zipfile.BadZipFile) as error:
                skipped.append(f"{name} ({type(error).__name__}: {error})")
    finally:
        if reader is not None:
            reader.close()
    if skipped:
        shown = "; ".join(skipped[:10]) + (f"; ... and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        warnings.warn(f"skipped {len(skipped)} unreadable image(s) in {path}: {shown}", stacklevel=2)
    if not arrays:
        raise DataError(f"{path} holds no readable image: every one of {len(entries)} files failed ({skipped[0]})")
    return ImageSet(torch.from_numpy(np.stack(arrays)), names, str(path))


def split_indices(count: int, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded train/test split of range(count); the test part is never empty when count > 1."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test fraction must be in [0, 1), got {test_fraction}")
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    test_count = min(count - 1, max(1, round(count * test_fraction))) if test_fraction > 0 and count > 1 else 0
    return order[test_count:].sort().values, order[:test_count].sort().values


def load_images(
    source: str,
    resolution: int | None = None,
    channels: int | None = None,
    split: str = "train",
    test_fraction: float = 0.05,
    seed: int = 0,
) -> ImageSet:
    """Load a named source (see the module docstring) as uint8 at the given resolution and channels.

    For folders and archives `split` picks the seeded train or held-out part; `fashion-mnist:test:N`
    takes the first N test images.  The resolution defaults to the data's own (32 for Fashion-MNIST).
    """
    if source.startswith("fashion-mnist"):
        parts = source.split(":")
        fm_split = parts[1] if len(parts) > 1 and parts[1] else split
        images = load_fashion_mnist(fm_split)
        if len(parts) > 2:
            images = images.subset(list(range(min(int(parts[2]), len(images)))))
        return convert_images(images, resolution, channels)
    if split not in ("train", "test", "all"):
        raise DataError(f"split must be 'train', 'test' or 'all', got {split!r}")
    images = load_image_source(source, resolution or 256, channels or 3)
    if split == "all":
        return images
    train, test = split_indices(len(images), test_fraction, seed)
    return images.subset(train if split == "train" else test)


def convert_images(images: ImageSet, resolution: int | None, channels: int | None) -> ImageSet:
    """Bring an in-memory set to a resolution (area/bilinear resize) and channel count (grey <-> RGB)."""
    data = images.images
    if channels is not None and channels != data.shape[1]:
        if channels == 3 and data.shape[1] == 1:
            data = data.expand(-1, 3, -1, -1)
        elif channels == 1 and data.shape[1] == 3:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            data = (data.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        else:
            raise DataError(f"cannot convert {data.shape[1]}-channel images to {channels} channels")
    if resolution is not None and resolution != data.shape[-1]:
        mode = "area" if resolution < data.shape[-1] else "bilinear"
        resized = torch.nn.functional.interpolate(data.float(), size=(resolution, resolution), mode=mode)
        data = resized.round().clamp(0, 255).to(torch.uint8)
    return ImageSet(data.contiguous(), images.names, images.source)

"""The k-row style matrix: equivalence with StyleGAN2 at k = 1, shapes, gradients, statistics."""

import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_config, tiny_model_config

from opgan.networks import Discriminator, Generator, ModelConfig, modulated_conv2d

SMALL = dict(
    img_channels=3, channel_base=256, channel_max=16
)  # the tiny model in RGB, 16 channels wide: room for k = 16


def textbook_modulated_conv(x, weight, styles, demodulate=True):
    """StyleGAN2's modulated convolution written sample by sample (Karras et al. 2020, eqs. 1-3)."""
    outputs = []
    for n in range(x.shape[0]):
        w = weight * styles[n].view(1, -1, 1, 1)  # w'_ijk = s_i * w_ijk
        if demodulate:
            w = w / torch.sqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        outputs.append(F.conv2d(x[n : n + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outputs)


def test_k1_layer_equals_textbook_stylegan2():
    torch.manual_seed(0)
    x, weight, style = torch.randn(3, 8, 6, 6), torch.randn(12, 8, 3, 3), torch.randn(3, 8)
    expected = textbook_modulated_conv(x, weight, style)
    for method in ("rows", "grouped"):
        got = modulated_conv2d(x, weight, style.unsqueeze(1), path=method)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    got = modulated_conv2d(x, weight[:, :, 1:2, 1:2], style.unsqueeze(1), demodulate=False, padding=0)
    torch.testing.assert_close(got, textbook_modulated_conv(x, weight[:, :, 1:2, 1:2], style, demodulate=False))


@pytest.mark.parametrize("rows", [2, 4, 12])
def test_row_blocks_modulate_contiguous_output_channels(rows):
    torch.manual_seed(1)
    x, weight, styles = torch.randn(2, 8, 5, 5), torch.randn(12, 8, 3, 3), torch.randn(2, rows, 8)
    block = 12 // rows
    expected = torch.cat(
        [textbook_modulated_conv(x, weight[r * block : (r + 1) * block], styles[:, r]) for r in range(rows)], dim=1
    )
    for method in ("rows", "grouped"):
        torch.testing.assert_close(modulated_conv2d(x, weight, styles, path=method), expected, atol=1e-5, rtol=1e-5)


def test_equal_rows_reproduce_the_k1_image_exactly():
    torch.manual_seed(2)
    base = Generator(tiny_model_config(k=1, **SMALL)).eval()
    w = torch.randn(3, 1, 16)
    reference = base.synthesis(base.broadcast_ws(w))
    for k in (2, 4, 16):
        model = Generator(tiny_model_config(k=k, **SMALL)).eval()
        model.load_state_dict(base.state_dict())  # parameters do not depend on k
        image = model.synthesis(model.broadcast_ws(w.expand(-1, k, -1)))
        torch.testing.assert_close(image, reference, atol=2e-5, rtol=1e-5)
    # and a k = 16 model with *different* rows gives a different image
    assert (model.synthesis(model.broadcast_ws(torch.randn(3, 16, 16))) - reference).abs().max() > 1e-2


@pytest.mark.parametrize("k", [1, 2, 16])
def test_shapes(k):
    cfg = tiny_model_config(k=k, **SMALL)
    G, D = Generator(cfg), Discriminator(cfg)
    z = G.sample_z(4)
    assert z.shape == (4, k, 16)
    w = G.mapping(z)
    assert w.shape == (4, k, 16)
    ws = G.broadcast_ws(w)
    assert ws.shape == (4, cfg.num_ws, k, 16) and cfg.num_ws == 6
    image = G.synthesis(ws)
    assert image.shape == (4, 3, 16, 16)
    assert D(image).shape == (4,)


def test_gradient_reaches_every_row():
    cfg = tiny_model_config(k=16, **SMALL)
    G = Generator(cfg)
    ws = G.broadcast_ws(G.mapping(G.sample_z(2))).detach().requires_grad_(True)
    G.synthesis(ws).square().sum().backward()
    per_row = ws.grad.abs().sum(dim=(0, 1, 3))
    assert per_row.shape == (16,) and bool((per_row > 0).all())
    per_slot_row = ws.grad.abs().sum(dim=(0, 3))
    assert bool((per_slot_row[:-1] > 0).all()), "some slot's row gets no gradient"
    # The last slot feeds only the final ToRGB, which uses one row per image channel (the paper's rule).
    assert bool((per_slot_row[-1, :3] > 0).all()) and bool((per_slot_row[-1, 3:] == 0).all())


def test_z_is_normalized_over_the_whole_row_block():
    G = Generator(tiny_model_config(k=4, **SMALL))
    z = torch.randn(2, 4, 16)
    z_scaled = z.clone()
    z_scaled[:, 0] *= 10  # one row larger: per-row normalization would undo this, block normalization does not
    assert not torch.allclose(G.mapping(z), G.mapping(z_scaled))
    torch.testing.assert_close(G.mapping(z), G.mapping(z * 7.0))


@pytest.mark.parametrize("method", ["rows", "grouped"])
@pytest.mark.parametrize("rows", [1, 8, 64])
def test_demodulated_outputs_have_unit_scale(method, rows):
    torch.manual_seed(3)
    x = torch.randn(16, 64, 8, 8)
    weight = torch.randn(64, 64, 3, 3)
    styles = torch.rand(16, rows, 64) * 2 + 0.1  # far from unit scale on purpose
    out = modulated_conv2d(x, weight, styles, path=method)
    assert 0.85 < out.std().item() < 1.15
    per_channel = out.std(dim=(0, 2, 3))
    assert bool(((per_channel > 0.6) & (per_channel < 1.4)).all())


def test_w_avg_tracks_mapped_rows():
    G = Generator(tiny_model_config(k=4, **SMALL))
    assert G.mapping.w_avg.abs().sum() == 0
    for _ in range(50):
        G.mapping(G.sample_z(8), update_w_avg=True)
    target = G.mapping(G.sample_z(512)).mean(dim=(0, 1))
    assert G.mapping.w_avg.abs().sum() > 0
    assert torch.nn.functional.cosine_similarity(G.mapping.w_avg, target, dim=0) > 0.9


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(k=3), "equal"),  # 16-channel layers cannot be split into 3 blocks
        (dict(k=32), "between 1 and"),  # wider than every layer
        (dict(k=0), "between 1 and"),
        (dict(resolution=24), "power of two"),
        (dict(resolution=4), "power of two"),
        (dict(img_channels=2), "img_channels"),
    ],
)
def test_bad_configurations_are_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_model_config(**{**SMALL, **overrides})


def test_paper_configuration_latent_sizes():
    from opgan.presets import PRESETS

    cfg = ModelConfig(**PRESETS["paper"]["model"])
    assert cfg.num_ws == 14
    assert cfg.synthesis_widths() == [512, 512, 512, 512, 512, 256, 128]
    assert cfg.k * cfg.w_dim == 262_144  # the paper's W: 512 x 512


@pytest.mark.parametrize("k, img_channels, channel_max", [(1, 3, 16), (2, 3, 16), (4, 1, 8), (16, 3, 16), (16, 1, 32)])
def test_used_latent_size_is_the_support_of_the_gradient(k, img_channels, channel_max):
    """Every W+ value that some layer reads gets a gradient, and no other: used_latent_size counts them."""
    from opgan.invert import latent_size, used_latent_size

    torch.manual_seed(k)
    cfg = tiny_model_config(img_channels=img_channels, channel_max=channel_max, k=k)
    G = Generator(cfg).eval()
    codes = torch.randn(2, cfg.num_ws, k, cfg.w_dim, requires_grad=True)
    (G.synthesize(codes, "w+") * torch.randn(2, img_channels, 16, 16)).sum().backward()
    touched = int((codes.grad[0] != 0).sum())
    assert touched == used_latent_size(G, "w+")
    assert used_latent_size(G, "w+") <= latent_size(G, "w+")


def test_truncation_pulls_every_row_towards_w_avg():
    torch.manual_seed(3)
    G = Generator(tiny_model_config(k=4, **SMALL)).eval()
    G.mapping.w_avg.copy_(torch.randn(16))
    z = G.sample_z(3)
    w = G.mapping(z)
    for psi in (0.0, 0.5, 1.0, 1.5):
        expected = G.mapping.w_avg + psi * (w - G.mapping.w_avg)
        torch.testing.assert_close(G.mapping(z, truncation_psi=psi), expected, atol=1e-5, rtol=1e-5)


def test_resampling_is_the_stylegan2_filter_away_from_the_borders():
    """Bilinear x2 equals zero insertion then [1,3,3,1] (gain 4); antialiased /2 equals [1,3,3,1]/8
    per axis then decimation -- StyleGAN2's upfirdn2d filters; only the border handling differs."""
    from opgan.networks import downsample2x, upsample2x

    torch.manual_seed(4)
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = torch.outer(taps, taps).view(1, 1, 4, 4)
    x = torch.randn(2, 1, 8, 8)
    stuffed = torch.zeros(2, 1, 16, 16)
    stuffed[..., ::2, ::2] = x
    up = F.conv2d(F.pad(stuffed, (2, 1, 2, 1)), kernel / 16)
    torch.testing.assert_close(upsample2x(x)[..., 2:-2, 2:-2], up[..., 2:-2, 2:-2])
    x = torch.randn(2, 1, 16, 16)
    down = F.conv2d(F.pad(x, (1, 2, 1, 2)), kernel / 64)[..., ::2, ::2]
    torch.testing.assert_close(downsample2x(x)[..., 1:-1, 1:-1], down[..., 1:-1, 1:-1])


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 1, 32, 32), (1, 5, 4, 16)])
def test_downsampling_equals_antialiased_bilinear_interpolation_including_borders(shape):
    """The depthwise-convolution downsampling reproduces F.interpolate's antialiased /2, whose
    border renormalization it must match too (the discriminator was trained with it)."""
    from opgan.networks import downsample2x

    x = torch.randn(*shape, generator=torch.Generator().manual_seed(6))
    expected = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
    torch.testing.assert_close(downsample2x(x), expected, atol=1e-6, rtol=1e-6)


def test_both_modconv_paths_make_the_same_images():
    torch.manual_seed(5)
    G = Generator(tiny_model_config(k=4, **SMALL)).eval()
    codes = torch.randn(3, G.num_ws, 4, 16)
    G.set_modconv_path("rows")
    by_rows = G.synthesize(codes, "w+")
    G.set_modconv_path("grouped")
    torch.testing.assert_close(G.synthesize(codes, "w+"), by_rows, atol=1e-5, rtol=1e-5)
    G.set_modconv_path(None)
    with pytest.raises(ValueError, match="unknown modulated_conv2d path"):
        G.set_modconv_path("fast")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (runs where one is present)")
def test_cuda_generates_inverts_and_trains(tmp_path):
    from opgan.data import ImageSet
    from opgan.invert import InversionConfig, invert
    from opgan.train import Trainer

    G = Generator(tiny_model_config(k=4, **SMALL)).cuda().eval()
    images = G.sample(4)
    assert images.is_cuda and torch.isfinite(images).all()
    result = invert(G, images, InversionConfig(steps=3, lpips_net="alex"), progress=False)
    assert result.codes.is_cuda and torch.isfinite(result.reconstructions).all()
    data = ImageSet(torch.randint(0, 255, (16, 1, 16, 16), dtype=torch.uint8), [str(i) for i in range(16)], "random")
    trainer = Trainer(tiny_config(mixed_precision=True), tmp_path / "run", data=data)
    stats = trainer.train_step()
    assert all(torch.isfinite(value) for value in stats.values())

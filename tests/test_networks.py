"""The k-row style matrix: equivalence with StyleGAN2 at k = 1, shapes, gradients, statistics."""

import pytest
import torch
import torch.nn.functional as F

from opgan.networks import Discriminator, Generator, ModelConfig, modulated_conv2d

SMALL = dict(resolution=16, img_channels=3, z_dim=16, w_dim=16, channel_base=256, channel_max=16)


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
    for method in ("rows", "grouped", "auto"):
        got = modulated_conv2d(x, weight, style.unsqueeze(1), method=method)
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
        torch.testing.assert_close(modulated_conv2d(x, weight, styles, method=method), expected, atol=1e-5, rtol=1e-5)


def test_equal_rows_reproduce_the_k1_image_exactly():
    torch.manual_seed(2)
    base = Generator(ModelConfig(k=1, **SMALL)).eval()
    w = torch.randn(3, 1, 16)
    reference = base.synthesis(base.broadcast_ws(w))
    for k in (2, 4, 16):
        model = Generator(ModelConfig(k=k, **SMALL)).eval()
        model.load_state_dict(base.state_dict())  # parameters do not depend on k
        image = model.synthesis(model.broadcast_ws(w.expand(-1, k, -1)))
        torch.testing.assert_close(image, reference, atol=2e-5, rtol=1e-5)
    # and a k = 16 model with *different* rows gives a different image
    assert (model.synthesis(model.broadcast_ws(torch.randn(3, 16, 16))) - reference).abs().max() > 1e-2


@pytest.mark.parametrize("k", [1, 2, 16])
def test_shapes(k):
    cfg = ModelConfig(k=k, **SMALL)
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
    cfg = ModelConfig(k=16, **SMALL)
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
    G = Generator(ModelConfig(k=4, **SMALL))
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
    out = modulated_conv2d(x, weight, styles, method=method)
    assert 0.85 < out.std().item() < 1.15
    per_channel = out.std(dim=(0, 2, 3))
    assert bool(((per_channel > 0.6) & (per_channel < 1.4)).all())


def test_w_avg_tracks_mapped_rows():
    G = Generator(ModelConfig(k=4, **SMALL))
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
        ModelConfig(**{**SMALL, **overrides})


def test_paper_configuration_latent_sizes():
    from opgan.presets import PRESETS

    cfg = ModelConfig(**PRESETS["paper"]["model"])
    assert cfg.num_ws == 14
    assert cfg.synthesis_widths() == [512, 512, 512, 512, 512, 256, 128]
    assert cfg.k * cfg.w_dim == 262_144  # the paper's W: 512 x 512

"""The training objective: path length over the k-row style matrix, R1, style mixing of whole slots."""

import math

import pytest
import torch
from helpers import tiny_model_config

from opgan.loss import mix_styles, path_lengths, r1_penalty
from opgan.networks import Generator


def test_path_length_over_the_row_matrix():
    noise = torch.randn(2, 1, 16, 16)
    for k in (1, 8):
        model = Generator(tiny_model_config(k=k))
        ws = model.broadcast_ws(model.mapping(model.sample_z(2))).detach().clone().requires_grad_(True)
        lengths = path_lengths(model.synthesis(ws), ws, noise)
        (grad,) = torch.autograd.grad((model.synthesis(ws) * noise).sum(), ws)
        # The authors' code, written as they wrote it: ws flattened to [N, num_ws * k, dim], squared
        # norms averaged over all row vectors, root, times k ** ppl_power with ppl_power = 0.5.
        flat = grad.reshape(2, -1, grad.shape[-1])
        authors = flat.square().sum(2).mean(1).sqrt() * k**0.5
        torch.testing.assert_close(lengths, authors)
        assert lengths.shape == (2,) and bool((lengths > 0).all())


@pytest.mark.parametrize("k, expected", [(1, 2.0), (16, 8.0)])
def test_path_length_of_an_all_ones_gradient_grows_with_the_rows(k, expected):
    """images = the sum of every W+ value, noise 1: the gradient is all ones, every slot matrix has
    squared Frobenius norm k x dim, and the length is sqrt(k x dim): 2 for k = 1, dim = 4 and 8 for
    k = 16 (a mean over rows, without the authors' sqrt(k), would give 2 for both)."""
    ws = torch.randn(2, 3, k, 4, dtype=torch.float64, requires_grad=True)
    images = ws.sum(dim=(1, 2, 3)).view(2, 1, 1, 1)
    lengths = path_lengths(images, ws, torch.ones(2, 1, 1, 1, dtype=torch.float64))
    torch.testing.assert_close(lengths, torch.full((2,), expected, dtype=torch.float64))
    # the length is linear in the noise's scale
    tripled = torch.full((2, 1, 1, 1), 3.0, dtype=torch.float64)
    torch.testing.assert_close(path_lengths(images, ws, tripled), 3 * lengths)


def test_path_length_by_hand_on_a_linear_generator():
    # images = A . ws, so the gradient of sum(images * noise) is known in closed form
    k, slots, dim = 4, 3, 5
    A = torch.randn(1, 4, 4, slots, k, dim, dtype=torch.float64)
    ws = torch.randn(2, slots, k, dim, dtype=torch.float64, requires_grad=True)
    noise = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    images = torch.einsum("nsrd,chwsrd->nchw", ws, A)
    grad = torch.einsum("nchw,chwsrd->nsrd", noise, A)
    by_hand = torch.stack(
        [
            math.sqrt(sum(float(grad[n, s].square().sum()) for s in range(slots)) / slots)
            * torch.ones([], dtype=torch.float64)
            for n in range(2)
        ]
    )
    torch.testing.assert_close(path_lengths(images, ws, noise), by_hand)


def test_style_mixing_takes_whole_slot_matrices_from_the_right_slots():
    G = Generator(tiny_model_config(k=4))
    z, mix_z = G.sample_z(3), G.sample_z(3)
    cutoff = torch.tensor([1, 3, G.num_ws])  # the last: no mixing
    ws = mix_styles(G, z, mix_z, cutoff)
    w, mix_w = G.mapping(z), G.mapping(mix_z)
    for n in range(3):
        for slot in range(G.num_ws):
            expected = w[n] if slot < cutoff[n] else mix_w[n]
            torch.testing.assert_close(ws[n, slot], expected)  # all k rows of the slot from one code


def test_r1_penalty_closed_forms():
    """For D(x) = <a, x> the penalty is |a|^2 per image; for D(x) = |x|^2 / 2 it is |x|^2."""
    torch.manual_seed(6)
    real = torch.randn(3, 1, 4, 4, requires_grad=True)
    a = torch.randn(1, 1, 4, 4)
    torch.testing.assert_close(r1_penalty((real * a).sum((1, 2, 3)), real), a.square().sum().expand(3))
    torch.testing.assert_close(
        r1_penalty(real.square().sum((1, 2, 3)) / 2, real), real.detach().square().sum((1, 2, 3))
    )

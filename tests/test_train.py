"""Training: finite losses, checkpoints, exact resume, Ctrl-C, DDP on CPU (the loss itself: test_loss.py)."""

import errno
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import tiny_config

from opgan.checkpoint import CheckpointError, load_generator, read_checkpoint
from opgan.data import convert_images
from opgan.train import Trainer


@pytest.fixture(scope="module")
def tiny_data(fashion_test):
    return convert_images(fashion_test, resolution=16, channels=1)


def train_tiny(out_dir, data, stop_after_steps=None, resume=False, **overrides):
    trainer = Trainer(tiny_config(**overrides), out_dir, resume=resume, data=data)
    if stop_after_steps is not None:
        step = trainer.train_step

        def counting_step():
            stats = step()
            if trainer.step == stop_after_steps:
                trainer._request_stop(signal.SIGINT, None)  # what Ctrl-C does
            return stats

        trainer.train_step = counting_step
    return trainer, trainer.run()


def test_trains_with_finite_losses_and_writes_its_files(tmp_path, tiny_data):
    trainer, summary = train_tiny(tmp_path, tiny_data, k=8, pl_weight=2.0, pl_interval=2, style_mixing=0.9)
    assert summary["finished"] and summary["images_seen"] == 48
    for key in ("loss_G", "loss_D"):
        assert math.isfinite(summary[key])
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert records[-1]["images_seen"] == 48 and "pl_penalty" in {k for r in records for k in r}
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "generator.pt").is_file()
    assert (tmp_path / "samples-latest.png").is_file()
    assert trainer.G.mapping.w_avg.abs().sum() > 0


def test_checkpoint_round_trip(tmp_path, tiny_data):
    trainer, _ = train_tiny(tmp_path, tiny_data, k=4)
    for name in ("checkpoint.pt", "generator.pt"):
        generator, meta = load_generator(tmp_path / name)
        assert meta["images_seen"] == 48 and meta["model_config"]["k"] == 4
        for (key, value), (_, original) in zip(generator.state_dict().items(), trainer.G_ema.state_dict().items()):
            torch.testing.assert_close(value, original, rtol=0, atol=0, msg=key)
    assert (tmp_path / "generator.pt").stat().st_size < (tmp_path / "checkpoint.pt").stat().st_size / 3


def test_an_export_on_the_way_is_the_shorter_run_and_keeps_the_log_to_its_length(tmp_path, tiny_data):
    from opgan.study.sweep import export_model

    train_tiny(tmp_path / "long", tiny_data, k=4, total_images=48, export_at=(16, 40))
    train_tiny(tmp_path / "short", tiny_data, k=4, total_images=16)
    assert sorted(path.name for path in (tmp_path / "long").glob("generator*.pt")) == [
        "generator-16img.pt",
        "generator-40img.pt",
        "generator.pt",
    ]
    on_the_way, _ = load_generator(tmp_path / "long" / "generator-16img.pt")
    shorter, _ = load_generator(tmp_path / "short" / "generator.pt")
    for (key, value), (_, other) in zip(on_the_way.state_dict().items(), shorter.state_dict().items()):
        assert torch.equal(value, other), key
    export_model(tmp_path / "long" / "generator-40img.pt", tmp_path / "m.pt", fd_images=0)
    logged = [json.loads(line)["images_seen"] for line in (tmp_path / "m.pt.log.jsonl").read_text().splitlines()]
    assert logged and max(logged) == 40, "the exported log stops at the export's own length"


def test_interrupted_and_resumed_run_matches_an_unbroken_one(tmp_path, tiny_data):
    _, straight = train_tiny(tmp_path / "straight", tiny_data, k=2, style_mixing=0.5, pl_weight=1.0, pl_interval=2)
    _, first = train_tiny(
        tmp_path / "broken", tiny_data, stop_after_steps=2, k=2, style_mixing=0.5, pl_weight=1.0, pl_interval=2
    )
    assert not first["finished"] and first["images_seen"] == 16
    assert read_checkpoint(tmp_path / "broken" / "checkpoint.pt")["images_seen"] == 16
    assert not (tmp_path / "broken" / "generator.pt").exists()
    _, second = train_tiny(
        tmp_path / "broken", tiny_data, resume=True, k=2, style_mixing=0.5, pl_weight=1.0, pl_interval=2
    )
    assert second["finished"]
    a = read_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    b = read_checkpoint(tmp_path / "broken" / "checkpoint.pt")
    for net in ("G", "G_ema", "D"):
        for key in a[net]:
            torch.testing.assert_close(a[net][key], b[net][key], rtol=0, atol=0, msg=f"{net}.{key}")


def test_resume_refuses_another_architecture(tmp_path, tiny_data):
    train_tiny(tmp_path, tiny_data, k=2, total_images=8)
    with pytest.raises(ValueError, match="differs"):
        Trainer(tiny_config(k=4), tmp_path, resume=True, data=tiny_data)


def test_distance_from_init_is_zero_when_frozen_and_positive_when_trained(tmp_path, tiny_data):
    from opgan.diagnostics import distance_from_init, initial_generator

    trainer = Trainer(tiny_config(k=4), tmp_path / "run", data=tiny_data)
    start = initial_generator(trainer.cfg.model, trainer.cfg.seed).state_dict()
    assert all(torch.equal(start[name], value) for name, value in trainer.G_init.items())
    assert set(distance_from_init(trainer.G, start).values()) == {0.0}
    mapping = list(trainer.G.mapping.parameters())  # frozen (lr 0): it must report 0
    rest = [p for p in trainer.G.parameters() if all(p is not m for m in mapping)]
    trainer.opt_G = torch.optim.Adam([{"params": mapping, "lr": 0.0}, {"params": rest, "lr": 0.002}], betas=(0.0, 0.99))
    for _ in range(3):
        trainer.train_step()
    drift = distance_from_init(trainer.G, start)
    assert drift["mapping"] == 0.0
    assert drift["affine"] > 0 and drift["conv"] > 0 and drift["torgb"] > 0


def test_resume_drops_log_lines_past_the_checkpoint(tmp_path, tiny_data):
    out = tmp_path / "run"
    train_tiny(out, tiny_data, stop_after_steps=3, checkpoint_every=1000)
    seen = read_checkpoint(out / "checkpoint.pt")["images_seen"]
    with open(out / "log.jsonl", "a") as log:  # what a run killed after its checkpoint leaves behind
        log.write(json.dumps({"images_seen": seen + 8, "step": 99}) + "\n")
    train_tiny(out, tiny_data, resume=True)
    images = [json.loads(line)["images_seen"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert images == sorted(set(images)) and 99 not in [
        json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()
    ]
    assert all("drift_affine" in json.loads(line) for line in (out / "log.jsonl").read_text().splitlines())


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        read_checkpoint(junk)
    torch.save({"some": "dict"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an opgan checkpoint"):
        read_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.pt")


def _opgan(*args, **kwargs):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "opgan", *args], capture_output=True, text=True, env=env, timeout=300, **kwargs
    )


@pytest.mark.slow
def test_smoke_preset_cli_trains_samples_and_exports(tmp_path):
    result = _opgan("train", "--preset", "smoke", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "run" / "generator.pt").is_file() and (tmp_path / "run" / "samples-latest.png").is_file()
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(math.isfinite(r["loss_G"]) and math.isfinite(r["loss_D"]) for r in log)
    result = _opgan(
        "sample",
        "--checkpoint",
        str(tmp_path / "run" / "generator.pt"),
        "--n",
        "9",
        "--out",
        str(tmp_path / "grid.png"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from PIL import Image

    assert Image.open(tmp_path / "grid.png").size[0] > 32 * 3
    exported = tmp_path / "small.pt"
    result = _opgan(
        "export", "--checkpoint", str(tmp_path / "run" / "checkpoint.pt"), "--out", str(exported), "--fd-images", "40"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((tmp_path / "small.pt.json").read_text())
    assert record["k"] == 1 and record["images_seen"] == 2000 and record["preset"] == "smoke"
    assert record["fd_vgg16_images"] == 40
    from opgan.data import to_float
    from opgan.metrics import fd_vgg16
    from opgan.study.heldout import held_out_images

    G, _ = load_generator(exported)  # the recorded FD-VGG16 is that of these samples against these images
    real = to_float(held_out_images(read_checkpoint(exported), 40).images)
    assert record["fd_vgg16_samples_vs_test"] == pytest.approx(fd_vgg16(G.sample(40, seed=123), real), rel=1e-4)
    assert load_generator(exported)[1]["images_seen"] == 2000


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    command = [
        sys.executable,
        "-m",
        "opgan",
        "train",
        "--preset",
        "smoke",
        "--total-images",
        "100000",
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "log.jsonl").exists() and time.time() < deadline:
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "resume" in stdout
    seen = read_checkpoint(out / "checkpoint.pt")["images_seen"]
    assert 0 < seen < 100000
    result = _opgan("train", "--out", str(out), "--resume", "--total-images", str(seen + 32))
    assert result.returncode == 0, result.stderr[-2000:]
    assert read_checkpoint(out / "checkpoint.pt")["images_seen"] == seen + 32


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "opgan",
        "train",
        "--preset",
        "smoke",
        "--total-images",
        "96",
        "--log-every",
        "32",
        "--out",
        str(tmp_path / "ddp"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    state = read_checkpoint(tmp_path / "ddp" / "checkpoint.pt")
    assert state["world_size"] == 2 and state["images_seen"] == 96
    log = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3  # only rank 0 writes
    assert all(math.isfinite(r["loss_G"]) for r in log)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (runs where one is present)")
@pytest.mark.slow
def test_one_process_nccl_ddp_with_bf16(tmp_path):
    """The CUDA path of DDP: torchrun with one process initializes NCCL and all-reduces through it."""
    from opgan.files import save_image_grid

    (tmp_path / "data").mkdir()
    for i, image in enumerate(torch.rand(32, 1, 32, 32) * 2 - 1):
        save_image_grid(image[None], tmp_path / "data" / f"{i}.png", columns=1, padding=0)
    env = {**os.environ, "TQDM_DISABLE": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "1",
        "-m",
        "opgan",
        "train",
        "--preset",
        "smoke",
        "--data",
        str(tmp_path / "data"),
        "--total-images",
        "64",
        "--log-every",
        "32",
        "--mixed-precision",
        "--out",
        str(tmp_path / "ddp"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    state = read_checkpoint(tmp_path / "ddp" / "checkpoint.pt")
    assert (
        state["world_size"] == 1 and state["images_seen"] == 64 and not state["provenance"]["device"].startswith("cpu")
    )


def test_a_bf16_step_with_every_regularizer(tmp_path, tiny_data):
    """Under bfloat16 autocast (what --mixed-precision turns on with CUDA; CPU autocast runs the
    same code) the path-length and R1 terms keep their float32 running state."""
    trainer = Trainer(tiny_config(pl_weight=2.0, pl_interval=1, style_mixing=0.9), tmp_path, data=tiny_data)
    trainer.loss.autocast = torch.autocast("cpu", dtype=torch.bfloat16)
    stats = trainer.train_step()
    assert {"r1_penalty", "pl_penalty"} <= set(stats) and all(torch.isfinite(v) for v in stats.values())
    assert trainer.loss.pl_mean.dtype == torch.float32 and trainer.loss.pl_mean > 0


def test_ema_update_closed_form(tmp_path, tiny_data):
    """One update moves G_ema to G by 1 - 0.5^(batch / half-life), the half-life capped by the ramp-up."""
    trainer = Trainer(tiny_config(ema_images=100, ema_rampup=0.05), tmp_path, data=tiny_data)
    with torch.no_grad():
        for p in trainer.G.parameters():
            p.fill_(1.0)
        for p in trainer.G_ema.parameters():
            p.fill_(0.0)
    trainer.images_seen = 10_000  # ramp-up cap 500 > 100: the half-life is 100 images
    trainer.update_ema()
    expected = 1 - 0.5 ** (trainer.cfg.batch / 100)
    assert all(torch.allclose(p, torch.full_like(p, expected)) for p in trainer.G_ema.parameters())
    trainer.images_seen = 40  # ramp-up cap: half-life 40 x 0.05 = 2 images
    trainer.update_ema()
    moved = expected + (1 - expected) * (1 - 0.5 ** (trainer.cfg.batch / 2))
    assert all(torch.allclose(p, torch.full_like(p, moved)) for p in trainer.G_ema.parameters())


def test_running_means_sync_once_and_refuse_non_finite_statistics():
    from opgan.train import RunningMeans

    window = RunningMeans()
    for value in (1.0, 2.0, 6.0):
        window.add({"loss_G": torch.tensor(value), "loss_D": torch.tensor(value * 2)})
    assert window.means(96) == {"loss_G": 3.0, "loss_D": 6.0}
    window.add({"loss_G": torch.tensor(float("nan"))})
    with pytest.raises(FloatingPointError, match="loss_G became nan in the log window ending at 128 images"):
        window.means(128)


def _poisoned(trainer, at_images):
    """The trainer's step, with a non-finite loss reported at `at_images`."""
    step = trainer.train_step

    def poisoned_step():
        stats = step()
        if trainer.images_seen == at_images:
            stats["loss_G"] = torch.tensor(float("nan"))
        return stats

    return poisoned_step


def test_a_step_that_diverges_between_a_log_and_a_checkpoint_is_never_checkpointed(tmp_path, tiny_data):
    # logs at 16 and 32 images, checkpoints at 24 and 48: the NaN at 24 comes after the log at 16
    cfg = tiny_config(total_images=48, log_every=16, checkpoint_every=24)
    trainer = Trainer(cfg, tmp_path, data=tiny_data)
    trainer.train_step = _poisoned(trainer, 24)
    with pytest.raises(FloatingPointError, match="loss_G became nan"):
        trainer.run()
    assert not (tmp_path / "checkpoint.pt").exists()


def test_a_graceful_stop_after_a_diverged_step_writes_no_checkpoint(tmp_path, tiny_data):
    cfg = tiny_config(total_images=48, log_every=16, checkpoint_every=24)
    trainer = Trainer(cfg, tmp_path, data=tiny_data)
    poisoned = _poisoned(trainer, 8)

    def then_stop():
        stats = poisoned()
        trainer.stop_requested = True  # as Ctrl-C would, right after the bad step
        return stats

    trainer.train_step = then_stop
    with pytest.raises(FloatingPointError):
        trainer.run()
    assert not (tmp_path / "checkpoint.pt").exists()


def test_the_trainer_leaves_the_global_random_state_and_threads_alone(tmp_path, tiny_data):
    threads, before = torch.get_num_threads(), torch.get_rng_state()
    first = Trainer(tiny_config(seed=3, threads=1), tmp_path / "a", data=tiny_data)
    assert torch.equal(torch.get_rng_state(), before) and torch.get_num_threads() == threads
    torch.manual_seed(12345)  # another global state gives the same networks: the run's seed decides
    second = Trainer(tiny_config(seed=3, threads=1), tmp_path / "b", data=tiny_data)
    for a, b in zip(first.G.state_dict().values(), second.G.state_dict().values()):
        assert torch.equal(a, b)


def _full_disk(monkeypatch):
    """Every atomic write from now on fails as a full disk does."""
    import errno
    import pathlib

    def no_space(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", no_space)


def test_a_full_disk_keeps_the_last_checkpoint_and_says_where_to_resume(tmp_path, tiny_data, monkeypatch):
    from opgan.files import WriteError

    train_tiny(tmp_path, tiny_data, k=4)  # a checkpoint at 48 images
    _full_disk(monkeypatch)
    with pytest.raises(WriteError) as raised:
        train_tiny(tmp_path, tiny_data, k=4, total_images=96, resume=True)
    message = str(raised.value)
    assert "No space left on device" in message and "checkpoint.pt" in message and "it needs" in message
    assert "last intact checkpoint" in message and "48 images" in message and "--resume" in message
    assert raised.value.errno == errno.ENOSPC and "\n" not in message
    monkeypatch.undo()
    assert read_checkpoint(tmp_path / "checkpoint.pt")["images_seen"] == 48  # intact, and resumable
    assert train_tiny(tmp_path, tiny_data, k=4, total_images=96, resume=True)[1]["finished"]


def test_the_cli_reports_a_full_disk_in_one_line_with_exit_code_1(tmp_path, monkeypatch, capsys):
    from opgan.cli import main

    _full_disk(monkeypatch)
    argv = ["train", "--preset", "smoke", "--total-images", "32", "--checkpoint-every", "16", "--out", str(tmp_path)]
    assert main([*argv, "--sample-every", "0", "--threads", "1"]) == 1
    printed = capsys.readouterr().err
    error = [line for line in printed.splitlines() if line.startswith("opgan train:")]  # beside the progress bar
    assert len(error) == 1 and error[0].startswith("opgan train: error: could not write") and "Traceback" not in printed
    assert "No space left on device" in error[0] and "No earlier checkpoint" in error[0]

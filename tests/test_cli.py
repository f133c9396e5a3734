"""Every command documents itself; bad arguments are clear errors."""

import pytest

from opgan.cli import build_parser, main


@pytest.mark.parametrize("command", ["train", "sample", "export", "invert", "interpolate"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--out" in text and "usage: opgan " + command in text


def test_train_help_lists_every_option_with_preset_values(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--k",
        "--r1-gamma",
        "--pl-weight",
        "--style-mixing",
        "--affine-lr-mul",
        "--resume",
        "--mixed-precision",
    ):
        assert option in text
    flat = " ".join(text.split())
    assert "--pl-weight FLOAT path-length regularization weight (0: off); default: smoke 0.0, cpu 0.0, paper 2.0" in (
        flat
    )


def test_clear_errors(tmp_path, capsys):
    assert main(["train", "--preset", "smoke", "--k", "3", "--out", str(tmp_path / "r")]) == 2
    assert "k=3" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "nothing"), "--resume"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--preset", "paper", "--out", str(tmp_path / "p")]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "g.png")]) == 2
    assert "missing.pt" in capsys.readouterr().err


def test_user_errors_print_one_line_and_bugs_keep_their_traceback(tmp_path, capsys, monkeypatch):
    from opgan import cli

    assert cli.main(["sample", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x.png")]) == 2
    assert (
        capsys.readouterr().err.strip() == f"opgan sample: error: checkpoint {tmp_path / 'missing.pt'} does not exist"
    )

    def broken(args):
        raise ValueError("an internal bug")

    monkeypatch.setattr(cli, "run_sample", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        cli.main(["sample", "--checkpoint", "any.pt", "--out", "x.png"])


def test_warnings_print_as_one_line_naming_the_command(tmp_path, capsys, monkeypatch):
    import warnings

    from opgan import cli

    def warns(args):
        warnings.warn("bad.png: 1x1 px is enlarged more than 2x to 32x32", stacklevel=2)
        return 0

    monkeypatch.setattr(cli, "run_sample", warns)
    assert cli.main(["sample", "--checkpoint", "any.pt", "--out", "x.png"]) == 0
    assert capsys.readouterr().err == "opgan sample: warning: bad.png: 1x1 px is enlarged more than 2x to 32x32\n"


def test_train_help_shows_each_presets_effective_default():
    from opgan.cli import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    flat = " ".join(text.split())
    assert "--total-images INT default: smoke 2000, cpu 150000, paper 25000000" in flat
    assert (
        "--style-mixing FLOAT probability of mixing two latents' whole slot matrices; default 0.9 at every preset"
        in flat
    )


def test_book_set_overrides_notebook_parameters(monkeypatch, capsys):
    from opgan.study import book

    seen = {}

    def fake_run(scale, out, config, only, starting=None, overrides=None):
        seen.update(scale=scale, only=only, overrides=overrides)
        return []

    monkeypatch.setattr(book, "run_notebooks", fake_run)
    argv = ["book", "--scale", "smoke", "--only", "04_affine", "--no-build"]
    assert main([*argv, "--set", "checkpoints=/tmp/swapped", "--set", "seeds=[0, 1]"]) == 0
    assert seen == {
        "scale": "smoke",
        "only": ["04_affine"],
        "overrides": {"checkpoints": "/tmp/swapped", "seeds": [0, 1]},
    }
    assert main([*argv, "--set", "checkpoints"]) == 2
    assert "--set takes NAME=VALUE" in capsys.readouterr().err

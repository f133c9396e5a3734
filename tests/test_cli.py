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
    for option in ("--k", "--r1-gamma", "--pl-weight", "--style-mixing", "--affine-lr-mul", "--resume", "--mixed-precision"):
        assert option in text
    assert "paper: 0.9" in text  # style mixing of the paper preset


def test_clear_errors(tmp_path, capsys):
    assert main(["train", "--preset", "smoke", "--k", "3", "--out", str(tmp_path / "r")]) == 2
    assert "k=3" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="does not exist"):
        main(["train", "--out", str(tmp_path / "nothing"), "--resume"])
    with pytest.raises(SystemExit, match="--data"):
        main(["train", "--preset", "paper", "--out", str(tmp_path / "p")])
    assert main(["sample", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "g.png")]) == 2
    assert "missing.pt" in capsys.readouterr().err

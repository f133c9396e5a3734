"""What the pages show: tables with integers as integers, summaries in words, the scale notice."""

from opgan import plots
from opgan.presets import PRESETS, describe_scale, scale_notice


def test_table_keeps_integers_rounds_floats_and_blanks_gaps():
    html = plots.table([{"k": 1, "lpips": 0.123456, "images": None}, {"k": 64, "lpips": 2.0, "images": 3}]).to_html()
    cells = [cell.split(">", 1)[1].split("<", 1)[0] for cell in html.split("<td")[1:]]
    assert cells == ["1", "0.123", "", "64", "2.000", "3"]
    assert "row_heading" not in html  # no row numbers unless asked for


def test_readable_summary_puts_mean_and_spread_in_one_column():
    rows = plots.readable_summary([{"k": 4, "used_latent_size": 928, "images": 2, "psnr_mean": 20.0, "psnr_std": 1.25,
                                    "ssim_mean": 0.5, "ssim_std": 0.0, "lpips_mean": 0.25, "lpips_std": 0.125}])
    assert rows == [{"k": 4, "used latent size": 928, "images": 2, "PSNR (dB)": "20.000 ± 1.250",
                     "SSIM": "0.500 ± 0.000", "LPIPS-VGG": "0.250 ± 0.125"}]


def test_the_scale_notice_is_read_from_the_presets(monkeypatch):
    cpu = describe_scale("cpu")
    assert f"{PRESETS['cpu']['train']['total_images']:,} images" in cpu["training"]
    assert f"{PRESETS['cpu']['invert']['steps']} steps" in cpu["inversion"] and "LPIPS-AlexNet" in cpu["inversion"]
    monkeypatch.setitem(PRESETS["cpu"]["invert"], "steps", 777)
    notice = scale_notice("cpu")
    assert "777 steps" in notice and "1000 steps" in notice  # ours beside the paper's
    assert notice.count("\n|") == len(cpu) + 1  # a header rule and one row per setting

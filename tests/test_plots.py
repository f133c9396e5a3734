"""What the pages show: tables with integers as integers, summaries in words."""

from opgan.study import plots


def test_table_keeps_integers_rounds_floats_and_blanks_gaps():
    html = plots.table([{"k": 1, "lpips": 0.123456, "images": None}, {"k": 64, "lpips": 2.0, "images": 3}]).to_html()
    cells = [cell.split(">", 1)[1].split("<", 1)[0] for cell in html.split("<td")[1:]]
    assert cells == ["1", "0.123", "", "64", "2.00", "3"]  # three significant digits
    assert plots.table([{"budget": 3125.0, "small": 0.00031254}], digits=4).to_html().count(">3125<") == 1
    assert "row_heading" not in html  # no row numbers unless asked for


def test_readable_summary_puts_mean_and_spread_in_one_column():
    rows = plots.readable_summary(
        [
            {
                "k": 4,
                "used_latent_size": 928,
                "images": 2,
                "psnr_mean": 20.0,
                "psnr_std": 1.25,
                "ssim_mean": 0.5,
                "ssim_std": 0.0,
                "lpips_mean": 0.25,
                "lpips_std": 0.125,
            }
        ]
    )
    assert rows == [
        {
            "k": 4,
            "used latent size": 928,
            "images": 2,
            "PSNR (dB)": "20.0 ± 1.2",  # the spread to two significant digits, the mean to its place
            "SSIM": "0.500 ± 0.000",
            "LPIPS-VGG": "0.25 ± 0.12",
        }
    ]


def test_figures_take_the_book_style_without_changing_matplotlibs_settings():
    import matplotlib

    before = dict(matplotlib.rcParams)
    figure = plots.sample_quality(
        [{"k": 1, "seed": 0, "fd_vgg16": 20.0}, {"k": 4, "seed": 0, "fd_vgg16": 18.0}], [1, 4]
    )
    assert dict(matplotlib.rcParams) == before, "drawing a figure changed matplotlib's global settings"
    sizes = {label.get_fontsize() for label in figure.axes[0].get_xticklabels()}
    assert sizes == {plots.STYLE["xtick.labelsize"]} and plots.STYLE["xtick.labelsize"] != before["xtick.labelsize"]


def test_the_trajectory_draws_one_line_per_side_through_its_snapshots_in_each_measure_panel():
    rows = [
        {"side": side, "k": k, "trained_k": trained, "space": space, "seed": seed, "fraction": fraction,
         "lpips": 0.1 / fraction + 0.01 * seed, "realism": 1.0 - 0.1 * fraction, "confidence": 0.5 + 0.1 * fraction}
        for side, k, trained, space in (("k = 1, w", 1, 1, "w"), ("k = 64, w+", 64, 64, "w+"), ("W++, w+", 64, 1, "w+"))
        for seed in range(2)
        for fraction in (0.25, 0.5, 0.75, 1.0)
    ]  # fmt: skip
    fig = plots.trajectory(rows)
    assert len(fig.axes) == 2  # realism and confidence
    means = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 4 and line.get_linestyle() != "None"]
    assert len(means) == 3 and {line.get_label() for line in means} == {"k = 1, w", "k = 64, w+", "W++, w+"}
    without_confidence = plots.trajectory([{k: v for k, v in row.items() if k != "confidence"} for row in rows])
    assert len(without_confidence.axes) == 1


def test_the_dose_response_figure_has_a_line_per_space_and_the_zero_line():
    points = [
        {"space": space, "images": images, "seed": seed, "log_control_over_trained": -0.3 + 0.1 * seed}
        for space in ("w", "w+")
        for images in (150_000, 300_000, 450_000)
        for seed in range(3)
    ]
    ax = plots.dose_response(points).axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["150k", "300k", "450k"]
    assert {line.get_label() for line in ax.lines if not line.get_label().startswith("_")} == {"W", "W+"}


def test_tables_name_things_for_readers():
    import pandas as pd

    styled = plots.table([{"fd_vgg16": 1.5, "images_seen": 10, "kept": True}], index=False)
    assert list(styled.data.columns) == ["FD-VGG16", "images seen", "kept"]
    assert styled.data["kept"].tolist() == ["yes"]
    record = pd.Series({"code_version": "abc", "run_time": "3 s"}, name="value").to_frame()
    assert list(plots.table(record, index=True).data.index) == ["code version", "run time"]


def test_the_loss_sentence_names_the_models_whose_discriminator_pulled_ahead():
    from opgan.study import generation

    def log(generator: list[float], discriminator: list[float]) -> list[dict]:
        return [{"loss_G": g, "loss_D": d} for g, d in zip(generator, discriminator)]

    logs = {"k = 1": log([2, 2, 1, 1], [1, 1, 1.2, 1.2]), "k = 64": log([1, 1, 3, 3], [1, 1, 0.5, 0.5])}
    text = generation.loss_sentence(logs)
    assert "generator loss of k = 64 rose" in text and "generator 1 → 3, discriminator 1 → 0.5" in text
    assert "unlike at k = 1" in text
    assert generation.loss_sentence({"k = 1": logs["k = 1"]}).startswith("No model's generator loss rose")


def test_the_evenness_sentence_gives_both_sides_seed_means_per_space():
    from opgan.study import editability

    measures = [
        {"k": 1, "trained_k": 1, "space": "w", "evenness": 1.5},
        {"k": 1, "trained_k": 1, "space": "w", "evenness": 1.7},
        {"k": 64, "trained_k": 64, "space": "w", "evenness": 2.0},
        {"k": 64, "trained_k": 1, "space": "w", "evenness": 9.0},  # the control: not the largest k's model
    ]
    text = editability.smoothness_sentence(measures, 1, 64)
    assert "in W 2.00 at k = 64 against 1.60 at k = 1" in text and "descriptive" in text
    assert editability.smoothness_sentence(measures[:2], 1, 64) == ""

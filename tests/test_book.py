"""The reproduction pipeline: _config.yml, notebook parameters, figure checks, early errors."""

from pathlib import Path

import nbformat
import papermill
import pytest

from opgan.study.book import PipelineError, load_reproduction, missing_figures, notebook_parameters, run_notebooks

ROOT = Path(__file__).resolve().parents[1]


def test_every_declared_notebook_exists_and_has_a_parameters_cell():
    spec = load_reproduction(ROOT / "_config.yml")
    for name in spec["notebooks"]:
        notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), f"{name} source has outputs"


def test_every_scale_parameter_is_declared_by_some_notebook():
    spec = load_reproduction(ROOT / "_config.yml")
    declared = {
        name: set(papermill.inspect_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"))) for name in spec["notebooks"]
    }
    everything = set().union(*declared.values())
    for scale, entry in spec["scales"].items():
        assert set(entry["parameters"]) <= everything, (scale, set(entry["parameters"]) - everything)
        for name, overrides in entry.get("notebooks", {}).items():
            assert set(overrides) <= declared[name], (scale, name)
    assert set(spec["scales"]) == {"smoke", "cpu", "paper"}


def _defaults(name: str) -> dict:
    """A notebook's parameters cell as values."""
    import ast

    declared = papermill.inspect_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"))
    return {key: ast.literal_eval(entry["default"]) for key, entry in declared.items()}


def test_a_page_opened_in_jupyter_runs_the_books_experiment_on_its_cache():
    spec = load_reproduction(ROOT / "_config.yml")
    for name in spec["notebooks"]:
        defaults = _defaults(name)
        cpu = notebook_parameters(spec, "cpu", name, set(defaults), {})
        differing = {key: (defaults[key], value) for key, value in cpu.items() if defaults[key] != value}
        assert not differing, f"{name}: parameters cell (default, cpu row): {differing}"
        if "cache" in defaults:  # the cache make book fills: a page run again reads it back
            assert defaults["cache"] == f"{spec['book']}/_cache", name
        # an interactive run writes its results where the book does not read them (the book sets results)
        assert defaults["results"] != f"{spec['book']}/results", name


def test_pages_only_call_the_study():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        lines = [line for line in code.splitlines() if line.strip()]
        assert len(lines) <= 60, f"{path.name}: {len(lines)} non-blank code lines; move computations into opgan.study"


def test_notebook_parameters_merge_and_filter():
    spec = {
        "book": "book",
        "notebooks": ["a"],
        "scales": {"cpu": {"parameters": {"ks": [1, 4], "steps": 9}, "notebooks": {"a": {"ks": [4]}}}},
    }
    assert notebook_parameters(spec, "cpu", "a", {"ks", "results"}, {"results": "r"}) == {"ks": [4], "results": "r"}
    with pytest.raises(PipelineError, match="unknown scale 'gpu'"):
        notebook_parameters(spec, "gpu", "a", set(), {})


def test_missing_figures_finds_figure_cells_without_images():
    notebook = nbformat.v4.new_notebook()
    shown = nbformat.v4.new_code_cell("fig = plots.image_rows(x)")
    shown.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})]
    skipped = nbformat.v4.new_code_cell("if x:\n    fig, ax = plt.subplots()\nelse:\n    print('skipped')")
    skipped.outputs = [nbformat.v4.new_output("stream", name="stdout", text="skipped: no logs\n")]
    broken = nbformat.v4.new_code_cell("fig, axes = plt.subplots(1, 2)")
    broken.outputs = [nbformat.v4.new_output("stream", name="stderr", text="100%|###|")]
    unrelated = nbformat.v4.new_code_cell("config = dataclasses.replace(c)")
    notebook.cells = [shown, skipped, broken, unrelated]
    assert missing_figures(notebook) == [2]


@pytest.mark.slow
def test_a_nonsense_parameter_stops_the_notebook_in_its_first_cells(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text(
        "book: book\nnotebooks: [01_generation]\nscales:\n  bad:\n    parameters: {scale: huge, ks: [1]}\n"
    )
    (tmp_path / "notebooks").mkdir()
    source = ROOT / "notebooks" / "01_generation.ipynb"
    (tmp_path / "notebooks" / source.name).write_bytes(source.read_bytes())
    (tmp_path / "book").mkdir()
    with pytest.raises(PipelineError, match=r"01_generation failed in cell 3: ExperimentError: unknown scale 'huge'"):
        run_notebooks("bad", tmp_path / "out", config)


def test_pages_read_like_a_paper_companion():
    """Every code cell is folded or removed, every figure cell has a numbered caption, and every
    experiment page glues its answer, which its first cell shows."""
    spec = load_reproduction(ROOT / "_config.yml")
    for name in spec["notebooks"]:
        notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            tags = cell.metadata.get("tags", [])
            assert {"hide-input", "remove-cell", "remove-input"} & set(tags), (name, cell.source[:60])
            if missing_figures(nbformat.v4.new_notebook(cells=[cell])):  # a figure cell (no outputs in the sources)
                figure = cell.metadata.get("mystnb", {}).get("figure", {})
                assert figure.get("caption") and figure.get("name", "").startswith("fig-"), (name, cell.source[:60])
        if name != "05_results":
            key = f"answer_{name[:2]}"
            assert f"{{glue:md}} {key}" in notebook.cells[0].source, name
            assert any(f'"{key}"' in cell.source for cell in notebook.cells if cell.cell_type == "code"), name


def test_the_injected_parameters_are_folded_and_bars_are_silenced(monkeypatch):
    from opgan.study.book import fold_injected_parameters, quiet_progress_bars

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("scale = 'cpu'", metadata={"tags": ["injected-parameters"]}),
            nbformat.v4.new_code_cell("x = 1"),
        ]
    )
    fold_injected_parameters(notebook)
    assert (
        notebook.cells[0].metadata["tags"] == ["injected-parameters", "hide-cell"]
        and "tags" not in notebook.cells[1].metadata
    )
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    with quiet_progress_bars():
        import os

        assert os.environ["TQDM_DISABLE"] == "1"
    assert "TQDM_DISABLE" not in os.environ


def test_the_scale_notice_is_read_from_the_presets(monkeypatch):
    from opgan.presets import PRESETS
    from opgan.study import book

    cpu = book.describe_scale("cpu")
    assert f"{PRESETS['cpu']['train']['total_images']:,} images" in cpu["training"]
    assert f"{PRESETS['cpu']['invert']['steps']} steps" in cpu["inversion"] and "LPIPS-AlexNet" in cpu["inversion"]
    monkeypatch.setitem(PRESETS["cpu"]["invert"], "steps", 777)
    notice = book.scale_notice("cpu")
    assert "777 steps" in notice and "`cpu` scale" in notice
    assert "{ref}`the settings table <settings>`" in notice  # one settings table, on the results page

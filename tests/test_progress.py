"""The progress line of `opgan book`: pages declare their work, the cache reports each piece, the
line says where the page is and how long it has left, in place on a terminal, rarely in a log."""

import io
import json

from opgan.study import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_page_reports_nothing_without_opgan_book(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    progress.done("anything", computed=True, seconds=1.0)  # a page opened in Jupyter: no file, no error
    assert not list(tmp_path.iterdir())


def test_the_line_counts_pieces_and_projects_the_time_left_at_the_measured_rate(tmp_path):
    events = tmp_path / "events.jsonl"
    log = io.StringIO()
    with progress.Progress(events, stream=log, interval=3600) as shown:
        progress.expect("02_reconstruction", {"inversions": {"a": 100, "b": 100, "c": 200, "d": 200}})
        shown.poll()
        assert shown.status() == "02_reconstruction · inversions 0/4 · time left: measuring"
        progress.done("a", computed=False, seconds=0.0)  # read back: done, but says nothing of the rate
        progress.done("b", computed=True, seconds=60.0)  # 0.6 s per unit of cost
        shown.poll()
        assert shown.status() == "02_reconstruction · inversions 2/4 · ~4 min left"  # 400 units x 0.6 s
        shown.show()
        shown.show()  # the same line is not printed twice, and a log gets at most one a minute
        progress.done("c", computed=True, seconds=120.0)
        shown.poll()
        shown.show()
    assert log.getvalue() == "02_reconstruction · inversions 2/4 · ~4 min left\n"
    assert all(json.loads(line)["time"] for line in events.read_text().splitlines())


def test_on_a_terminal_the_line_is_rewritten_in_place(tmp_path):
    terminal = Terminal()
    with progress.Progress(tmp_path / "events.jsonl", stream=terminal, interval=3600) as shown:
        progress.expect("01_generation", {"sample features": {"x": 1, "y": 1}})
        progress.done("x", computed=True, seconds=30.0)
        shown.poll()
        shown.show()
        progress.done("y", computed=True, seconds=30.0)
        shown.poll()
        shown.show()
    assert terminal.getvalue() == (
        "\r\033[K01_generation · sample features 1/2 · ~30 s left\r\033[K01_generation · done\n"
    )


def test_a_page_that_declares_nothing_shows_nothing_not_the_page_before(tmp_path):
    log = io.StringIO()
    with progress.Progress(tmp_path / "events.jsonl", stream=log, interval=3600) as shown:
        shown.begin("03_interpolation")
        progress.expect("03_interpolation", {"midpoint scores": {"x": 1}})
        progress.done("x", computed=True, seconds=1.0)
        shown.poll()
        shown.show(force=True)
        shown.begin("04_affine")
        assert shown.status() == ""
        shown.show(force=True)
    assert log.getvalue() == "03_interpolation · done\n"

"""Progress of a book being built, on the terminal of `opgan book` while its pages run in kernels.

A page declares the work it will do before it starts (`expect`: per phase, the named pieces and their
cost), and the compute-once cache reports each piece as it is read back or computed (`done`).  The
events go as JSON lines to the file named by ``OPGAN_PROGRESS``, which `opgan book` sets and reads
(`Progress`); with the variable unset (a page opened in Jupyter) nothing is written, and nothing of
it lands in the pages.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

ENV = "OPGAN_PROGRESS"


def _report(event: dict) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    with open(path, "a") as stream:  # one short line per event: appends do not interleave
        stream.write(json.dumps({"time": time.time(), **event}) + "\n")


def expect(page: str, phases: dict[str, dict[str, float]]) -> None:
    """Declares a page's work: phase -> {piece name: cost} (e.g. image-steps of an inversion)."""
    _report({"page": page, "expect": phases})


def done(name: str, computed: bool, seconds: float) -> None:
    """A piece of work finished: read back from the cache, or computed in `seconds`."""
    _report({"name": name, "computed": computed, "seconds": seconds})


def duration(seconds: float) -> str:
    """'41 min', '2 h 05 min', '40 s'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class Progress:
    """Reads the events of the pages being executed and shows one line: the page, its current phase
    with pieces done / declared, and the time left of the page at the phases' measured rates.  On a
    terminal the line is rewritten in place every `interval` seconds; elsewhere (a CI log) it is
    printed at most once a minute."""

    def __init__(self, path: str | os.PathLike, stream: TextIO = sys.stderr, interval: float = 2.0) -> None:
        self.path, self.stream, self.interval = Path(path), stream, interval
        self.tty = stream.isatty()
        self.offset = 0
        self.page = ""
        self.plans: dict[str, dict[str, dict[str, float]]] = {}  # page -> phase -> piece -> cost
        self.finished: dict[str, dict] = {}  # piece -> its event
        self.last_printed = 0.0
        self.last_line = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, page: str) -> None:
        """A page starts: the line follows it from now on (nothing is shown until it declares its work)."""
        self.poll()
        self.page, self.last_line = page, ""

    # -- reading
    def poll(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path) as stream:
            stream.seek(self.offset)
            text = stream.read()
        complete = text[: text.rfind("\n") + 1]  # a line still being written waits for the next poll
        self.offset += len(complete.encode())
        for line in complete.splitlines():
            event = json.loads(line)
            if "expect" in event:
                self.page = event["page"]
                self.plans[self.page] = event["expect"]
            elif event.get("name"):
                self.finished.setdefault(event["name"], event)

    def unreported(self) -> dict[str, list[str]]:
        """Per page, the declared pieces no event reported (a plan that does not match the page)."""
        return {
            page: missing
            for page, plan in self.plans.items()
            if (missing := sorted(name for pieces in plan.values() for name in pieces if name not in self.finished))
        }

    # -- what to say
    def status(self) -> str:
        """'02_reconstruction · inversions 23/97 · ~41 min left' (empty before any page declared)."""
        plan = self.plans.get(self.page)
        if not plan:
            return ""
        left, unknown, current = 0.0, False, None
        for phase, pieces in plan.items():
            remaining = {name: cost for name, cost in pieces.items() if name not in self.finished}
            computed = [self.finished[name] for name in pieces if self.finished.get(name, {}).get("computed")]
            if remaining and current is None:
                current = (phase, len(pieces) - len(remaining), len(pieces))
            if not remaining:
                continue
            if computed:  # seconds per unit of cost, measured on this phase's computed pieces
                rate = sum(event["seconds"] for event in computed) / sum(pieces[event["name"]] for event in computed)
                left += rate * sum(remaining.values())
            else:
                unknown = True
        if current is None:
            return f"{self.page} · done"
        phase, finished, total = current
        timing = (
            "time left: measuring" if unknown and not left else f"~{duration(left)} left" + (" +" if unknown else "")
        )
        return f"{self.page} · {phase} {finished}/{total} · {timing}"

    def show(self, force: bool = False) -> None:
        line = self.status()
        now = time.monotonic()
        if not line or (line == self.last_line and not force):
            return
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif force or now - self.last_printed >= 60:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last_printed = now
        self.last_line = line

    def end_line(self) -> None:
        """Ends the in-place line (on a terminal) before other output is printed."""
        if self.tty and self.last_line:
            self.stream.write("\n")
            self.stream.flush()
        self.last_line = ""

    # -- running beside the pages
    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
            self.show()

    def __enter__(self) -> Progress:
        self.path.write_text("")
        os.environ[ENV] = str(self.path)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        os.environ.pop(ENV, None)
        self.end_line()

"""The two ways to install opgan must agree, and the promised commands must exist."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra if not r.startswith("opgan")}
    listed = {
        _name(line.strip()[2:])
        for line in (ROOT / "environment.yml").read_text().splitlines()
        if line.strip().startswith("- ")
        and not line.strip().startswith(("- -e", "- pip", "- python"))
        and "conda-forge" not in line
        and ":" not in line.strip()[2:]
    }
    assert wanted == listed, f"only in pyproject: {wanted - listed}; only in environment.yml: {listed - wanted}"


def test_the_promised_commands_are_make_targets_and_ci_runs_the_tests():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, flags=re.MULTILINE))
    promised = set(re.findall(r"^make ([a-z]+)", (ROOT / "README.md").read_text(), flags=re.MULTILINE))
    assert {"book", "test"} <= promised <= targets, f"promised {promised}, Makefile has {targets}"
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.MULTILINE)

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


def _imports(path: Path) -> set[str]:
    """The opgan modules a source file imports, at the top or inside functions (lazy imports)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("opgan"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (ROOT / (candidate.replace(".", "/") + ".py")).is_file() else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("opgan")}
    return found - {"opgan"}


def _module_graph() -> dict[str, set[str]]:
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts): path for path in (ROOT / "opgan").rglob("*.py")}
    return {name.removesuffix(".__init__"): _imports(path) & set(modules) for name, path in modules.items()}


def test_the_method_never_imports_the_study_and_no_import_goes_round_in_a_circle():
    graph = _module_graph()
    method = {
        name for name in graph if not name.startswith("opgan.study") and name not in ("opgan.cli", "opgan.__main__")
    }
    assert {"opgan.networks", "opgan.train", "opgan.invert", "opgan.checkpoint"} <= method
    offenders = {name: sorted(m for m in graph[name] if m.startswith("opgan.study")) for name in method}
    assert not {name: found for name, found in offenders.items() if found}, "the method imports the study"

    visiting, done = [], set()

    def visit(name: str) -> None:
        if name in visiting:
            raise AssertionError("import circle: " + " -> ".join(visiting[visiting.index(name) :] + [name]))
        if name in done:
            return
        visiting.append(name)
        for imported in sorted(graph.get(name, ())):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_the_methods_public_names_import_lazily_from_the_package():
    import subprocess
    import sys

    code = (
        "import sys, opgan; assert 'torch' not in sys.modules, 'import opgan pulled in torch'; "
        "from opgan import Generator, ModelConfig, TrainConfig, make_config, train, invert, InversionConfig, "
        "load_generator; import opgan.train as module; "
        "assert module is train and callable(train) and callable(invert); "
        "assert make_config('smoke').model.k == 1 and InversionConfig().space"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_source_file_a_cache_key_hashes_exists():
    from opgan.environment import PACKAGE_ROOT
    from opgan.study.cache import INVERSION_SOURCES
    from opgan.study.midpoints import MIDPOINT_SOURCES
    from opgan.study.sweep import SAMPLE_SOURCES

    for name in (*INVERSION_SOURCES, *MIDPOINT_SOURCES, *SAMPLE_SOURCES):
        assert (PACKAGE_ROOT / name).is_file(), name


def test_the_readme_is_a_guide_not_a_diary():
    import re

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert not re.findall(r"\bissues? \d+|#\d+\b", readme, flags=re.IGNORECASE), "issue numbers belong in notes"
    hashes = [
        word
        for word in re.findall(r"\b[0-9a-f]{7,40}\b", readme)
        if re.search(r"\d", word) and re.search("[a-f]", word)
    ]
    assert not hashes, f"commit hashes belong in benchmarks/README.md: {hashes}"
    for link in re.findall(r"\]\(([^)#]+)\)", readme):  # every file the README links to exists
        assert (ROOT / link).exists(), link

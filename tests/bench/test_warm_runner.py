"""make mutate's warm runner (bench/warm.py): a mutant is seen, a hung test is killed, and the server
never holds a module of the tree it tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import warm

SCRIPT = Path(warm.__file__)
ARGS = ["-q", "-p", "no:cacheprovider", *warm.PLUGINS, "tests"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny project: a package, and a test of it that a mutant of `double` fails."""
    root = tmp_path / "tree"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text("def double(n):\n    return n * 2\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(
        "import os, time\nfrom pkg.calc import double\n\n"
        "def test_double():\n"
        "    if os.path.exists('hang'):\n        time.sleep(600)\n"
        "    assert double(3) == 6\n"
    )
    return root


def environment() -> dict[str, str]:
    return {**os.environ, **warm.AUTOLOAD}


@pytest.fixture
def serving(tree: Path, tmp_path: Path) -> Iterator[Path]:
    imported = tmp_path / "imported.json"
    probe = subprocess.run(
        [sys.executable, str(SCRIPT), warm.PROBE, str(imported), "--", *ARGS],
        cwd=tree,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stdout
    assert "pkg.calc" in json.loads(imported.read_text())  # what the run imported, its own module too
    listening = tmp_path / "warm.sock"
    # The tree importable from anywhere, as the editable install makes the checkout: a server that
    # preloaded `pkg` would hold it, and the mutant would go unseen.
    with serve(listening, tree, imported, PYTHONPATH=str(tree)) as server:
        try:
            assert server.stdout is not None
            assert "listening" in server.stdout.readline()
            yield listening
        finally:
            server.terminate()


def serve(listening: Path, tree: Path, imported: Path, **options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "serve", str(listening), str(tree), str(imported), "5"],
        cwd=tree,
        env={**environment(), **options},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def client(listening: Path, tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", warm.CLIENT, str(listening), *ARGS],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )


def test_each_run_imports_the_trees_modules_fresh_so_a_mutant_is_seen(serving: Path, tree: Path) -> None:
    assert client(serving, tree).returncode == 0
    calc = tree / "pkg" / "calc.py"
    calc.write_text(calc.read_text().replace("n * 2", "n + 2"))
    mutant = client(serving, tree)
    assert mutant.returncode == 1
    assert "1 failed" in mutant.stdout
    calc.write_text(calc.read_text().replace("n + 2", "n * 2"))
    assert client(serving, tree).returncode == 0


def test_a_hung_run_is_killed_and_counts_as_failed(serving: Path, tree: Path) -> None:
    (tree / "hang").write_text("")
    hung = client(serving, tree)
    assert hung.returncode == 124
    assert "timeout after 5 s, child killed" in hung.stdout
    (tree / "hang").unlink()
    assert client(serving, tree).returncode == 0  # the server answers the next mutant


def test_the_server_refuses_to_hold_a_module_of_the_tree(tree: Path, tmp_path: Path) -> None:
    # A library that imports the project: preloading it would hold `pkg`, and mutants of it would go
    # unseen. The server stops instead of listening.
    library = tmp_path / "lib"
    library.mkdir()
    (library / "helper.py").write_text("import pkg.calc\n")
    imported = tmp_path / "imported.json"
    imported.write_text(json.dumps({"json": None, "helper": str(library / "helper.py")}))
    paths = os.pathsep.join([str(library), str(tree)])
    with serve(tmp_path / "warm.sock", tree, imported, PYTHONPATH=paths) as server:
        assert server.stdout is not None
        started = server.stdout.readline()
        server.terminate()
        _, errors = server.communicate()
    assert "listening" not in started
    assert "must not hold: pkg, pkg.calc" in errors

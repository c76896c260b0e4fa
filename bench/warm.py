"""A warm test runner for `bench/mutate.py`: third-party libraries imported once, each mutant's tests
in a fresh fork.

Most of a pytest start is importing aiogram, SQLAlchemy, Babel, aiohttp and pytest itself, the same
for every mutant. `serve` imports those once (the list is what a plain run of the module's tests
imported, less the project's own modules and pytest's plugins, which pytest must import itself to
rewrite their asserts) and then, per request, forks a child that runs `pytest.main` in the mutated
tree: the child imports every module of the project fresh, from the mutated files. The server never
holds a project module (it checks `sys.modules` before it answers anything); a child that outlives
its timeout is killed with its process group and counts as failed, as cosmic-ray counts a timeout.

Run as a script (`python bench/warm.py …`), never as `bench.warm`: `bench/__init__.py` imports the
project. Standard library only at module level; `CLIENT` is the test command's side, a few lines of
the standard library, given to `python -c`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.metadata
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

# The test command cosmic-ray runs per mutant: argv is the socket, then pytest's arguments; the exit
# status is the child's. Its output (pytest's) is printed, for cosmic-ray's record of the mutant.
CLIENT = (
    "import json,os,socket,sys\n"
    "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
    "s.sendall(json.dumps({'cwd':os.getcwd(),'args':sys.argv[2:]}).encode()+b'\\n')\n"
    "a=json.loads(s.makefile().readline())\n"
    "sys.stdout.write(a['output']);sys.exit(a['status'])\n"
)
# pytest's plugins: only pytest-asyncio, named (`-p`), with autoloading off. pytest rewrites the asserts
# of an autoloaded plugin's whole distribution and refuses one imported already (hypothesis, anyio):
# off, those two are libraries the server may hold, and the 3 s pytest spent rewriting them is saved.
PLUGINS = ["-p", "pytest_asyncio.plugin"]
AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# The baseline's side: a plain pytest run in the tree that also records what it imported.
PROBE = "probe"
# This script, under its own name and multiprocessing's alias of it.
MAIN = ("__main__", "__mp_main__")
POLL = 0.02
OUTPUT_LIMIT = 20_000


def project_names(tree: Path) -> set[str]:
    """The project's top-level packages and modules (and the tests'), as a file of the tree would
    import them."""
    names = {"conftest", "tests", *MAIN}
    for entry in tree.iterdir():
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix == ".py":
            names.add(entry.stem)
    return names


def foreign(name: str, path: str | None, excluded: set[str], roots: tuple[str, ...]) -> bool:
    """Whether a module may be imported by the server: not the project's, not a plugin's."""
    if name.partition(".")[0] in excluded:
        return False
    # The virtual environment may lie inside the checkout: what is installed there is a library's.
    installed = path is not None and path.startswith((sys.prefix + os.sep, sys.base_prefix + os.sep))
    return installed or not (path and path.startswith(roots))


def probe(output: Path, args: list[str]) -> int:
    """Run pytest as `python -m pytest` would in the current directory, then record the modules it
    imported, with their files."""
    import pytest

    sys.path[0] = os.getcwd()  # instead of this script's directory
    status = int(pytest.main(args))
    modules = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    output.write_text(json.dumps(modules))
    return status


def preload(modules: dict[str, str | None], tree: Path) -> int:
    """Import the third-party modules a plain run imported; the number imported."""
    excluded = project_names(tree) | {"pytest_asyncio"}
    roots = tuple(str(path) + os.sep for path in {tree.resolve(), Path(__file__).resolve().parents[1]})
    count = 0
    for name, path in modules.items():  # in the order the run imported them: C parts after their package
        if name in sys.modules or not foreign(name, path, excluded, roots):
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(name)
            count += 1
    held = sorted(
        name
        for name, module in list(sys.modules.items())
        if name not in MAIN and not foreign(name, getattr(module, "__file__", None), excluded, roots)
    )
    if held:
        raise RuntimeError(f"the warm runner imported modules it must not hold: {', '.join(held[:10])}")
    return count


def child(cwd: str, args: list[str], output: int) -> None:
    """In the fork: pytest in the mutated tree, its exit status as the process's."""
    status = 3
    try:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.chdir(cwd)
        sys.dont_write_bytecode = True  # as cosmic-ray asks: a mutant's bytecode is never cached
        sys.path.insert(0, cwd)
        import pytest

        status = int(pytest.main(args))
    except BaseException as error:  # anything the child does wrong is a failed run
        with contextlib.suppress(Exception):
            os.write(2, f"warm runner child: {type(error).__name__}: {error}\n".encode())
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def answer(connection: socket.socket, timeout: float, scratch: Path) -> None:
    request = json.loads(connection.makefile().readline())
    log = scratch / f"child-{time.monotonic_ns()}.log"
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:
        connection.close()
        child(request["cwd"], request["args"], output)
    os.close(output)
    deadline = time.monotonic() + timeout
    status: int | None = None
    note = ""
    try:
        while status is None:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(code)
                status = 128 - status if status < 0 else status  # < 0: killed by a signal
                break
            gone = False
            with contextlib.suppress(BlockingIOError):
                gone = connection.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
            if gone or time.monotonic() > deadline:
                status, note = 124, ("client gone" if gone else f"timeout after {timeout:.0f} s")
                break
            time.sleep(POLL)
    finally:
        if status is None or note:  # hung, abandoned, or the server itself told to stop
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    text = log.read_text(errors="replace")[-OUTPUT_LIMIT:]
    log.unlink()
    if note:
        text += f"\nwarm runner: {note}, child killed\n"
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps({"status": status, "output": text}).encode() + b"\n")


def serve(path: Path, tree: Path, modules: Path, timeout: float) -> None:
    del sys.path[0]  # this script's directory (bench/), so no name there shadows a library's
    count = preload(json.loads(modules.read_text()), tree)
    # What the libraries built stays as it is for every child: a child's collections (pytest's
    # asks for two) skip it, and its memory is shared, not copied.
    gc.freeze()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(4)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"warm runner: {count} modules imported, listening", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            answer(connection, timeout, path.parent)


def main() -> None:
    command, *rest = sys.argv[1:]
    if command == PROBE:
        output, _, *args = rest  # probe OUTPUT -- PYTEST ARGS
        sys.exit(probe(Path(output), args))
    if command == "serve":
        socket_path, tree, modules, timeout = rest
        serve(Path(socket_path), Path(tree), Path(modules), float(timeout))
        return
    sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()

"""The documentation keeps up with the code, as Datasette's does: every setting, every `intake`
command and option and every console page is named in README.md or docs/, every bot dialog in
docs/architecture.md, and every link between them leads to a file that exists."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from caseworker_console.routes import all_routes
from intake.cli import build_parser
from intake.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _documentation() -> str:
    return "\n".join(path.read_text() for path in DOCUMENTS)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    for action in build_parser()._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("intake has no subcommands")


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


def undocumented_settings(text: str) -> list[str]:
    aliases = [field.alias for field in Settings.model_fields.values() if field.alias]
    return [alias for alias in aliases if f"`{alias}`" not in text]


def undocumented_commands(text: str) -> list[str]:
    missing = []
    for name, parser in _subcommands().items():
        if not re.search(rf"`intake {re.escape(name)}\b", text):
            missing.append(f"intake {name}")
        missing += [
            f"intake {name} {option}"
            for option in _options(parser)
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text)
        ]
    return missing


def undocumented_pages(text: str) -> list[str]:
    return [route.path for route in all_routes() if route.method == "GET" and f"`{route.path}`" not in text]


def test_every_setting_is_documented() -> None:
    assert undocumented_settings(_documentation()) == []


def test_every_command_and_its_options_are_documented() -> None:
    assert undocumented_commands(_documentation()) == []


def test_every_dialog_module_is_in_the_architecture() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = [path.stem for path in (ROOT / "bot" / "dialogs").glob("*.py") if path.stem != "__init__"]
    assert [module for module in sorted(modules) if f"| `{module}` |" not in text] == []


def test_every_console_page_is_documented() -> None:
    assert undocumented_pages(_documentation()) == []


@pytest.mark.parametrize(
    ("check", "mention"),
    [
        (undocumented_settings, "`INTAKE_SEND_RATE`"),
        (undocumented_commands, "`intake rotate-keys"),
        (undocumented_commands, "`--password-stdin`"),
        (undocumented_pages, "`/cases/{code}/plan`"),
    ],
)
def test_the_checks_notice_a_missing_mention(check: Callable[[str], list[str]], mention: str) -> None:
    text = _documentation()
    assert mention in text
    assert check(text.replace(mention, "")) != []


def test_links_between_the_documents_lead_somewhere() -> None:
    broken = []
    for path in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
            resolved = (path.parent / target).resolve()
            if not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)} → {target}")
    assert broken == []

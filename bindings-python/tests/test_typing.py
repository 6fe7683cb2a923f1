"""The decider types, as a user's mypy --strict sees them: the README's
Python snippets type-check, and deciders returning anything but a decision
are refused."""

import pathlib
import re

import pytest

mypy_api = pytest.importorskip("mypy.api")

HERE = pathlib.Path(__file__).parent
PACKAGE = HERE.parent
CONFIG = PACKAGE / "pyproject.toml"


def run_mypy(*files: pathlib.Path, cache: pathlib.Path) -> tuple[str, int]:
    out, err, status = mypy_api.run(
        ["--strict", "--config-file", str(CONFIG), "--cache-dir", str(cache), "--no-error-summary", *map(str, files)]
    )
    return out + err, status


def readme_snippets() -> list[str]:
    text = (PACKAGE / "README.md").read_text()
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.S | re.M)
    return [re.sub(rf"^{indent}", "", code, flags=re.M) for indent, code in blocks]


def test_readme_snippets_type_check_strict(tmp_path: pathlib.Path) -> None:
    snippets = readme_snippets()
    assert len(snippets) >= 5, "the README lost its examples"
    files = []
    for number, code in enumerate(snippets):
        file = tmp_path / f"readme_snippet_{number}.py"
        file.write_text(code)
        files.append(file)
    output, status = run_mypy(*files, cache=tmp_path / "cache")
    assert status == 0, output


def test_wrong_deciders_are_refused_by_mypy(tmp_path: pathlib.Path) -> None:
    source = HERE / "typing" / "wrong_deciders.py"
    refused = {number for number, line in enumerate(source.read_text().splitlines(), 1) if "  # refused" in line}
    output, status = run_mypy(source, cache=tmp_path / "cache")
    assert status == 1, output
    reported = {int(m.group(1)) for m in re.finditer(r"wrong_deciders\.py:(\d+): error", output)}
    assert reported == refused, output

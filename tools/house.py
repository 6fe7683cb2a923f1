#!/usr/bin/env python3
"""The gateway's house, checked: no import circle among a crate's files, no
file longer than a person reads in one sitting, no function longer than a
screenful or two.

An import is a `crate::a::b` or `super::x` path in a file (comments, strings
and `#[cfg(test)]` modules left out), resolved to the module file it names.
Lines are counted outside `#[cfg(test)]` modules. Exit status 1 when a limit
is passed, with each offender named; 0 otherwise.

Usage: python3 tools/house.py SRC [SRC...] [--max-lines 600] [--max-fn-lines 100]
       (--max-fn-lines 0: no limit on functions)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{")
FN = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+)?(?:const\s+)?(?:unsafe\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def strip(text: str) -> str:
    """The code of `text` with comments, strings and char literals blanked
    (line breaks kept, so that line numbers stay)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 70]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:i + 4])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_tests(code: str) -> str:
    """`code` with every `#[cfg(test)]` item (a module, a function) blanked,
    line breaks kept."""
    out, i = [], 0
    while True:
        at = code.find("#[cfg(test)]", i)
        if at < 0:
            out.append(code[i:])
            return "".join(out)
        out.append(code[i:at])
        brace, semi = code.find("{", at), code.find(";", at)
        if semi >= 0 and (brace < 0 or semi < brace):
            end = semi + 1
        else:
            depth, end = 0, brace
            while end < len(code):
                depth += {"{": 1, "}": -1}.get(code[end], 0)
                end += 1
                if depth == 0:
                    break
        out.append("\n" * code.count("\n", at, end))
        i = end


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def imports(code: str, here: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The module paths `code` names, absolute from the crate root."""
    found = []
    for kind, rest in PATH.findall(code) + USE_GROUP.findall(code):
        names = [p for p in rest.split("::") if p]
        if kind == "crate":
            found.append(tuple(names))
            continue
        # `super` is the parent of the file's own module, once per `super`.
        base = list(here)
        names.insert(0, "super")
        while names and names[0] == "super":
            names.pop(0)
            base = base[:-1]
        found.append(tuple(base) + tuple(names))
    return found


def longest_functions(code: str, limit: int) -> list[tuple[str, int, int]]:
    """Functions of `code` over `limit` lines: (name, first line, lines)."""
    lines = code.split("\n")
    out = []
    for number, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, opened, end = 0, False, number
        for end in range(number, len(lines)):
            for ch in lines[end]:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
                elif ch == ";" and not opened and depth == 0:
                    break
            if opened and depth == 0:
                break
            if not opened and lines[end].rstrip().endswith(";"):
                break
        if opened and end - number + 1 > limit:
            out.append((m.group(1), number + 1, end - number + 1))
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one file (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def check(src: Path, max_lines: int, max_fn_lines: int) -> list[str]:
    files = sorted(p for p in src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    graph: dict[str, set[str]] = {}
    problems = []
    for file in files:
        here = module_of(src, file)
        text = file.read_text()
        stripped = strip(text)
        code = without_tests(stripped)
        name = str(file.relative_to(src))
        graph[name] = set()
        for path in imports(code, here):
            # The longest prefix that is a module file of the crate.
            for cut in range(len(path), 0, -1):
                target = modules.get(path[:cut])
                if target is not None:
                    if target != file and path[:cut] != ():
                        graph[name].add(str(target.relative_to(src)))
                    break
        # Every line of the file (comments and blank lines too) but those of
        # its test modules.
        test_lines = sum(1 for a, b in zip(stripped.split("\n"), code.split("\n")) if a.strip() and not b.strip())
        count = text.count("\n") - test_lines
        if count > max_lines:
            problems.append(f"long file: {name} has {count} lines of code outside its tests (at most {max_lines})")
        for fn, line, length in longest_functions(code, max_fn_lines) if max_fn_lines else ():
            problems.append(f"long function: {name}:{line} {fn} has {length} lines (at most {max_fn_lines})")
    # A parent's `mod x;` is not an import; a `pub use` of its child is.
    for group in circles(graph):
        problems.append("import circle: " + " -> ".join(group))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="+", type=Path)
    parser.add_argument("--max-lines", type=int, default=600)
    parser.add_argument("--max-fn-lines", type=int, default=100)
    args = parser.parse_args()
    problems = [f"{src}: {p}" for src in args.src for p in check(src, args.max_lines, args.max_fn_lines)]
    for problem in problems:
        print(problem)
    if not problems:
        functions = f", no function over {args.max_fn_lines} lines" if args.max_fn_lines else ""
        print(f"house: {', '.join(map(str, args.src))}: no import circle, no file over {args.max_lines} lines{functions}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

Reads the `use crate::…` / `use super::…` lines (and `crate::x::` / `super::x::` paths in code)
of every .rs file under each crate's src/, maps them to the files that define those modules,
and looks for cycles among the files. A parent module declaring its children (`mod x;`) is not
an import; a child naming its parent's items is. Usage: python3 scripts/check_cycles.py [CRATE…]
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["api", "entity", "jobs", "migration"]
PATH = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")


def module_of(src: Path, file: Path) -> list[str]:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return parts


def file_of(modules: dict, path: list[str]):
    """The file defining the longest prefix of `path` that is a module."""
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in modules:
            return modules[tuple(path[:n])]
    return None


def edges(src: Path):
    files = [f for f in src.rglob("*.rs")]
    modules = {tuple(module_of(src, f)): f for f in files if f.name != "main.rs"}
    graph = {f: set() for f in files}
    for f in files:
        here = module_of(src, f)
        text = re.sub(r"//.*", "", f.read_text())
        # `#[cfg(test)] mod tests { … }` blocks (at the end of a file) only test: leave them out.
        # Other `#[cfg(test)]` items (a test-only function) count like any code.
        text = re.split(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s", text)[0]
        for m in PATH.finditer(text):
            kind, rest = m.group(1), [p for p in m.group(2).split("::") if p]
            if kind == "crate":
                target = rest
            else:
                base = here[:-1]
                while rest and rest[0] == "super":
                    rest, base = rest[1:], base[:-1]
                target = base + rest
            dest = file_of(modules, target)
            if dest is not None and dest != f:
                graph[f].add(dest)
        # A module file naming its own children by a relative path (`customers::CustomerQuery`).
        if f.name in ("mod.rs", "lib.rs", "main.rs"):
            children = re.findall(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", text, re.M)
            for child in children:
                if re.search(rf"(?<![:\w]){child}::", text):
                    dest = file_of(modules, here + [child])
                    if dest is not None and dest != f:
                        graph[f].add(dest)
    return graph


def cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    bad = 0
    for crate in sys.argv[1:] or CRATES:
        src = ROOT / crate / "src"
        for comp in cycles(edges(src)):
            bad += 1
            names = sorted(str(p.relative_to(ROOT)) for p in comp)
            print(f"import cycle in {crate}: " + " <-> ".join(names))
    if bad:
        sys.exit(1)
    print("no import cycles")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fail if two modules of one of our library crates import each other (directly).

    python3 scripts/check-module-cycles.py shared/domain shared/logs shared/aws

Cargo already forbids cycles between crates; this keeps modules inside a crate layered too, so
each can be read (and moved) on its own. It reads `crate::` and `super::` paths in non-test,
non-comment code: a path names the deepest module of the crate it reaches, and a cycle is two
modules, neither inside the other, that each name the other (or something inside it).
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super)((?:::[a-z_][a-z_0-9]*)+)")


def module_of(root, path):
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def code_of(path):
    text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def inside(a, b):
    return a[: len(b)] == b


def cycles(crate):
    root = os.path.join(crate, "src")
    refs = {}
    for directory, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(directory, name)
            module = module_of(root, path)
            found = set()
            for kind, rest in PATH.findall(code_of(path)):
                parts = rest.strip(":").split("::")
                base = () if kind == "crate" else module[:-1]
                while parts and parts[0] == "super":
                    base, parts = base[:-1], parts[1:]
                found.add(base + tuple(parts))
            refs[module] = found
    modules = set(refs)

    def resolve(target):
        while target and target not in modules:
            target = target[:-1]
        return target

    edges = {m: {resolve(t) for t in targets} - {m, ()} for m, targets in refs.items()}
    out = set()
    for a, targets in edges.items():
        for b in targets:
            if inside(a, b) or inside(b, a):
                continue
            if any(inside(t, a) for t in edges.get(b, ())):
                out.add(tuple(sorted(("::".join(a), "::".join(b)))))
    return sorted(out)


def main():
    failed = False
    for crate in sys.argv[1:]:
        found = cycles(crate)
        for a, b in found:
            print(f"{crate}: {a} and {b} import each other")
        failed |= bool(found)
    if not failed:
        print("no module imports another that imports it back:", ", ".join(sys.argv[1:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

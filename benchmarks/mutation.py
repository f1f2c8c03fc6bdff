"""Mutation score of echo_notify/: mutmut makes one small change at a time, the fast suite judges.

    .venv/bin/python -m benchmarks.mutation [--max-mutants N] [--module render] [--seed 0]
                                            [--jobs 2]

mutmut (settings in pyproject.toml, [tool.mutmut]) works in a temporary copy of the checkout
(tracked and new files), so nothing is written in the tree. Each mutant is judged by the tests of
`-m "not docker"` that run the changed function. Prints killed / total, per module, and every
survivor as file:line with its change. A full run (over 4,000 mutants) takes hours on 2 cores:
--max-mutants runs a random sample (repeatable with --seed), --module one module.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.composite import checkout
from tests.helpers import ROOT

PACKAGE = "echo_notify"
MUTMUT = Path(sys.executable).with_name("mutmut")
# mutmut's first step (copy, then write every mutant) without running anything, so that a
# sample can be drawn from the full list. mutmut has no command for it.
GENERATE = """
import os
import mutmut.__main__ as m
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
m.copy_src_dir(); m.copy_also_copy_files(); m.setup_source_paths()
m.store_lines_covered_by_tests(); m.create_mutants(JOBS)
"""
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout"}


def copy_checkout(target: Path) -> None:
    """Tracked and new files; mutmut then copies all of them beside the mutants (also_copy).
    The built tools the fast suite runs (GitHub's parser, mermaid), which git ignores, too."""
    checkout(target)
    for tool in ("build/parse-actions/parse.cjs", "build/mermaid"):
        if (ROOT / tool).is_file():
            (target / tool).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / tool, target / tool)
        elif (ROOT / tool).is_dir():
            shutil.copytree(ROOT / tool, target / tool, symlinks=True)
    tops = sorted({p.name for p in target.iterdir()} - {PACKAGE, "tests"})
    config = target / "pyproject.toml"
    table = "\n[tool.mutmut]\n"
    assert table in config.read_text(), f"pyproject.toml has no {table.strip()} table"
    config.write_text(config.read_text().replace(table, f"{table}also_copy = {json.dumps(tops)}\n"))


def make_checkout(mutants: Path) -> None:
    """Some tests list the checkout with git: the copy mutmut tests in is one (its own files
    ignored)."""
    subprocess.run(["git", "init", "-q"], cwd=mutants, check=True)
    ignored = ("*.meta", "*.spans", "mutmut-*.json", "__pycache__/", ".hypothesis/")
    (mutants / ".git" / "info" / "exclude").write_text("\n".join(ignored) + "\n")


def mutant_names(work: Path) -> dict[str, Path]:
    """Every mutant's name and its source file (relative), from mutmut's .meta files."""
    names = {}
    for meta in sorted((work / "mutants" / PACKAGE).rglob("*.py.meta")):
        source = meta.relative_to(work / "mutants").with_suffix("")
        for name in json.loads(meta.read_text())["exit_code_by_key"]:
            names[name] = source
    return names


def results(work: Path) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in (work / "mutants" / PACKAGE).rglob("*.py.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def describe(work: Path, name: str, source: Path) -> tuple[str, int, str]:
    """File, line and `old  →  new` for one mutant, from mutmut's diff of its function."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415 -- dev tool
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key  # noqa: PLC0415

    with contextlib.chdir(work):
        diff = get_diff_for_mutant(name, path=source).splitlines()
    hunk = next(i for i, line in enumerate(diff) if line.startswith("@@"))
    old = int(diff[hunk].split()[1].lstrip("-").split(",")[0])  # line in the function, from 1
    removed = [line[1:].strip() for line in diff[hunk + 1 :] if line.startswith("-")]
    added = [line[1:].strip() for line in diff[hunk + 1 :] if line.startswith("+")]
    for line in diff[hunk + 1 :]:
        if line.startswith("-"):
            break
        old += not line.startswith("+")
    function, cls = orig_function_and_class_names_from_key(name)
    start = def_line(work / source, function, cls)
    return str(source), start and start + old - 1, compact(" ".join(removed), " ".join(added))


def compact(old: str, new: str, context: int = 30) -> str:
    """The changed part as [old → new] inside a little of the unchanged line around it."""
    head = _same(old, new)
    tail = _same(old[head:][::-1], new[head:][::-1])
    before = ("…" if head > context else "") + old[max(0, head - context) : head]
    after = old[len(old) - tail :]
    after = after[:context] + ("…" if len(after) > context else "")
    gone, came = old[head : len(old) - tail], new[head : len(new) - tail]
    return f"{before}[{_short(gone)} → {_short(came)}]{after}"


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _same(a: str, b: str) -> int:
    """Length of the common start of two strings."""
    pairs = enumerate(zip(a, b, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def def_line(path: Path, function: str, cls: str | None) -> int:
    body = ast.parse(path.read_text()).body
    if cls:
        body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls), [])
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return node.lineno
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mutants", type=int, default=0, help="random sample; 0: all")
    parser.add_argument("--module", default="", help="one module of the package, e.g. render")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="echo-notify-mutation-") as tmp:
        work = Path(tmp)
        copy_checkout(work)
        code = GENERATE.replace("JOBS", str(args.jobs))
        subprocess.run([sys.executable, "-c", code], cwd=work, check=True, capture_output=True)
        make_checkout(work / "mutants")
        every = mutant_names(work)
        chosen = [n for n in every if n.startswith(f"{PACKAGE}.{args.module}.")] or list(every)
        if args.module and len(chosen) == len(every):
            sys.exit(f"no module {PACKAGE}.{args.module} (see {PACKAGE}/)")
        if 0 < args.max_mutants < len(chosen):
            chosen = sorted(random.Random(args.seed).sample(chosen, args.max_mutants))
        log = work / "mutmut.log"
        with log.open("w") as out:
            done = subprocess.run(
                [str(MUTMUT), "run", "--max-children", str(args.jobs)]
                + (chosen if len(chosen) < len(every) else []),
                cwd=work,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        codes = results(work)
        if done.returncode or any(codes.get(n) is None for n in chosen):
            text = log.read_text().replace("\r", "\n")
            print(text[-3000:])
            red = "failed to collect stats" in text or "Failed to run clean test" in text
            why = ": the fast suite fails without any mutant; make it pass first" if red else ""
            sys.exit(f"mutmut run failed (exit {done.returncode}){why}. Its log's end is above.")
        status = {n: KILLED.get(codes[n] or 0, "survived") for n in chosen}
        no_tests = {n for n in chosen if codes[n] in (5, 33)}
        survivors = [
            (*describe(work, n, every[n]), " (no test runs it)" if n in no_tests else "")
            for n in chosen
            if status[n] == "survived"
        ]
    elapsed = time.perf_counter() - started
    killed = sum(s != "survived" for s in status.values())
    print(
        f"mutmut over {PACKAGE}/{args.module + '.py' if args.module else ''}, judged by "
        f'`pytest -m "not docker"`: {len(chosen)} of {len(every)} mutants'
        + (f" (random sample, seed {args.seed})" if args.max_mutants else "")
    )
    print("\nmodule                       mutants  killed  survived  score")
    for module in sorted({str(every[n]) for n in chosen}):
        mine = [n for n in chosen if str(every[n]) == module]
        dead = sum(status[n] != "survived" for n in mine)
        line = f"{module:<28} {len(mine):>7} {dead:>7} {len(mine) - dead:>9}"
        print(f"{line} {dead / len(mine):>6.0%}")
    counts = Counter(status.values())
    print(
        f"\nscore: {killed} killed / {len(chosen)} = {killed / len(chosen):.1%} "
        f"({counts['killed']} by a failing test, {counts['timeout']} by timeout; "
        f"{len(survivors)} survived, {len(no_tests)} of them run by no test)"
    )
    print(f"time: {elapsed / 60:.1f} min with {args.jobs} workers\n\nsurvivors:")
    for path, number, change, untested in sorted(survivors):
        print(f"  {path}:{number}{untested}  {change}")


if __name__ == "__main__":
    main()

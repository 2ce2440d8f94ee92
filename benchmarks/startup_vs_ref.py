"""Start-up against another version of this code: ``serve --local`` spawn → tools/list.

``python -m benchmarks.startup_vs_ref [--ref main] [--rounds 15]`` checks ``--ref`` out into a
temporary ``git worktree`` and times both trees' ``python -m avala_mcp serve --local``, each on
the demo database its own code seeded (the same data), samples interleaved (the method of
``benchmarks/startup.py``), with the same interpreter and installed dependencies; each child
imports ``avala_mcp`` from its own tree (checked). Prints one JSON document: the ratio of this
tree to the ref, target at most 1.05 (an issue's "start-up unchanged"). It reports; it does not
fail on a missed target.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import child_env, comparison, interleave, median
from benchmarks.startup import spawn_to_tools_list

TARGET = 1.05
# -P: nothing prepended to sys.path (not the working directory), so PYTHONPATH alone picks the tree.
PYTHON = [sys.executable, "-P"]
HERE = Path(__file__).resolve().parents[1]


def tree_env(tree: Path) -> dict[str, str]:
    """A desktop client's environment, with ``tree``'s package first on the path."""
    return child_env(PYTHONPATH=str(tree))


def imported_from(tree: Path) -> Path:
    done = subprocess.run(
        [*PYTHON, "-c", "import avala_mcp; print(avala_mcp.__file__)"],
        env=tree_env(tree), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(done.stdout.strip()).resolve()


def measure(ref: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="avala-bench-ref-") as workdir:
        work = Path(workdir)
        other = work / "ref"
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", "--quiet", str(other), ref],
            check=True,
        )
        try:
            trees = {"this": HERE, "ref": other}
            for name, tree in trees.items():
                found = imported_from(tree)
                if not found.is_relative_to(tree.resolve()):
                    raise RuntimeError(f"{name}: avala_mcp imported from {found}, not {tree}")
            # A database for each tree, seeded by the warm-up run of its own code: an older ref
            # may not open a database of a newer schema.
            dbs = {name: work / f"{name}.sqlite3" for name in trees}
            tools: dict[str, int] = {}

            def sample(name: str) -> float:
                spawn = spawn_to_tools_list(
                    [*PYTHON, "-m", "avala_mcp", "serve", "--local", "--db", str(dbs[name])],
                    tree_env(trees[name]),
                )
                tools[name] = spawn.tools
                return spawn.seconds

            for name in trees:  # seed each database, and warm the file caches of both trees
                sample(name)
            samples = interleave(rounds, {name: functools.partial(sample, name) for name in trees})
        finally:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(other)], check=False
            )
    return {
        "what": "serve --local: spawn -> initialize -> tools/list over stdio, median seconds",
        "ref": ref,
        "samples_per_subject": rounds,
        "tools_listed": tools,
        "startup": comparison(
            median(samples["this"]), median(samples["ref"]), TARGET, "s", baseline_is=ref
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="the git ref to compare with (main)")
    parser.add_argument("--rounds", type=int, default=15, help="samples of each (15)")
    args = parser.parse_args()
    print(json.dumps(measure(args.ref, args.rounds), indent=2))


if __name__ == "__main__":
    main()

"""Figure 1, cold start: spawn → initialize → tools/list, against the framework floor.

Each sample spawns a fresh process and speaks raw JSON-RPC over its pipes (no client library in
the timed path), as Claude Desktop does at every start. Subjects, interleaved round by round:

- ``floor``: ``floor_server.py``, a minimal MCPServer with one tool (the baseline);
- ``local``: ``avala-mcp serve --local`` on a database seeded beforehand (the figure with a target);
- ``cloud``: ``avala-mcp serve`` with a dummy key and an unreachable loopback base URL (listing
  tools makes no HTTP call), i.e. start-up without the embedded API;
- ``local_first_run``: ``serve --local`` on a new database each time, so seeding the demo data is
  included.

Then one ``-X importtime`` run of each shows what our start-up imports beyond the floor.
"""

from __future__ import annotations

import functools
import json
import resource
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from benchmarks.common import (
    CHILD_TIMEOUT,
    avala_command,
    child_env,
    comparison,
    floor_command,
    interleave,
    median,
    seed_demo_db,
    stop,
)

TARGET = 1.15
PROTOCOL = "2025-11-25"
TOP_IMPORTS = 15
# Modules the issue wants kept off the stdio start-up path unless the mode needs them.
WATCHED_MODULES = ("uvicorn", "starlette", "sqlite3", "avala_mcp.embedded", "avala_mcp.server.http")
# Any reachable-looking loopback URL no one listens on; listing tools never connects to it.
UNREACHABLE_BASE_URL = "http://127.0.0.1:9/api/v1"
DUMMY_KEY = "benchmark-dummy-key"


def _send(pipe: IO[bytes], message: dict[str, Any]) -> None:
    pipe.write(json.dumps(message).encode() + b"\n")
    pipe.flush()


def _answer(pipe: IO[bytes], request_id: int) -> dict[str, Any]:
    """Read messages until the response to ``request_id``."""
    while True:
        line = pipe.readline()
        if not line:
            raise RuntimeError("the server closed its output before answering")
        message: dict[str, Any] = json.loads(line)
        if message.get("id") == request_id:
            if "error" in message:
                raise RuntimeError(f"the server answered with an error: {message['error']}")
            return message


@dataclass
class Spawn:
    seconds: float  # from spawning to the tools/list answer
    cpu_seconds: float  # user + system CPU of the whole child, start to exit
    tools: int
    stderr: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spawn_to_tools_list(command: list[str], env: dict[str, str]) -> Spawn:
    """Spawn ``command``, initialize it and list its tools, timed; then stop it."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdin is not None
    assert process.stdout is not None
    # A server that hangs is killed, so the benchmark always ends.
    watchdog = threading.Timer(CHILD_TIMEOUT, process.kill)
    watchdog.start()
    try:
        _send(
            process.stdin,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": "avala-benchmarks", "version": "0"},
                },
            },
        )
        _answer(process.stdout, 1)
        _send(process.stdin, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(process.stdin, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = _answer(process.stdout, 2)["result"]["tools"]
        elapsed = time.perf_counter() - started
    finally:
        watchdog.cancel()
        stop(process)
    assert process.stderr is not None
    errors = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    process.stdout.close()
    # Children run one at a time and are waited for, so the delta is this one's CPU.
    return Spawn(elapsed, _children_cpu() - cpu_before, len(tools), errors)


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """``-X importtime`` lines → module: (self µs, cumulative µs)."""
    modules: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        modules[fields[2].strip()] = (int(fields[0]), int(fields[1]))
    return modules


def import_report(
    subject: dict[str, tuple[int, int]], floor: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """What ``subject`` imports beyond the floor, most expensive first."""
    extra = {name: times for name, times in subject.items() if name not in floor}
    by_package: dict[str, int] = defaultdict(int)
    for name, (self_us, _) in extra.items():
        by_package[name.split(".")[0]] += self_us
    top = sorted(extra.items(), key=lambda entry: entry[1][0], reverse=True)[:TOP_IMPORTS]
    return {
        "modules": len(subject),
        "modules_beyond_floor": len(extra),
        "self_ms_beyond_floor": sum(s for s, _ in extra.values()) / 1000,
        "self_ms_beyond_floor_by_package": {
            package: us / 1000
            for package, us in sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)
        },
        "top_beyond_floor": [
            {"module": name, "self_ms": s / 1000, "cumulative_ms": c / 1000} for name, (s, c) in top
        ],
        "watched_modules_imported": watched_imports(subject),
    }


def watched_imports(modules: dict[str, tuple[int, int]]) -> dict[str, bool]:
    """Which of :data:`WATCHED_MODULES` (or their submodules) were imported."""
    return {
        watched: any(name == watched or name.startswith(f"{watched}.") for name in modules)
        for watched in WATCHED_MODULES
    }


def measure(rounds: int, *, thorough: bool = True) -> dict[str, Any]:
    """``thorough`` adds a warm-up spawn of each and the first-run subject (not in --quick)."""
    with tempfile.TemporaryDirectory(prefix="avala-bench-start-") as workdir:
        work = Path(workdir)
        db = seed_demo_db(work / "seeded.sqlite3")
        commands = {
            "floor": (floor_command(), child_env()),
            "local": (avala_command("serve", "--local", "--db", str(db)), child_env()),
            "cloud": (
                avala_command("serve"),
                child_env(AVALA_API_KEY=DUMMY_KEY, AVALA_BASE_URL=UNREACHABLE_BASE_URL),
            ),
        }
        tool_counts: dict[str, int] = {}
        fresh = iter(range(rounds + 1))

        cpu: dict[str, list[float]] = defaultdict(list)

        def sample(name: str) -> float:
            command, env = commands[name]
            spawn = spawn_to_tools_list(command, env)
            if spawn.tools < 1:
                raise RuntimeError(f"{name}: tools/list returned no tools; stderr: {spawn.stderr}")
            tool_counts[name] = spawn.tools
            cpu[name].append(spawn.cpu_seconds)
            return spawn.seconds

        def first_run() -> float:
            new_db = work / f"fresh-{next(fresh)}.sqlite3"
            command = avala_command("serve", "--local", "--db", str(new_db))
            return spawn_to_tools_list(command, child_env()).seconds

        subjects: dict[str, Callable[[], float]] = {
            name: functools.partial(sample, name) for name in commands
        }
        if thorough:
            # One unmeasured spawn each, so the first sample does not pay for cold file caches.
            for name in commands:
                sample(name)
            cpu.clear()
            subjects["local_first_run"] = first_run
        samples = interleave(rounds, subjects)
        profiles = {
            name: parse_importtime(
                spawn_to_tools_list(command, {**env, "PYTHONPROFILEIMPORTTIME": "1"}).stderr
            )
            for name, (command, env) in commands.items()
        }
    floor = median(samples["floor"])
    report: dict[str, Any] = {
        "what": "spawn -> initialize -> tools/list over stdio, median seconds",
        "samples_per_subject": rounds,
        "tools_listed": tool_counts,
        "local": comparison(
            median(samples["local"]), floor, TARGET, "s", baseline_is="minimal MCPServer, 1 tool"
        ),
        "cloud": comparison(
            median(samples["cloud"]), floor, None, "s", baseline_is="minimal MCPServer, 1 tool"
        ),
        "cpu": {
            "what": "user+system CPU of each whole child process (start to exit), median; "
            "less sensitive than wall time to load on the other cores",
            **{
                name: comparison(median(cpu[name]), median(cpu["floor"]), None, "s")
                for name in ("local", "cloud")
            },
        },
        "imports": {
            "floor_modules": len(profiles["floor"]),
            "local": import_report(profiles["local"], profiles["floor"]),
            "cloud": import_report(profiles["cloud"], profiles["floor"]),
            "floor_watched_modules_imported": watched_imports(profiles["floor"]),
        },
    }
    if thorough:
        report["local_first_run"] = comparison(
            median(samples["local_first_run"]),
            floor,
            None,
            "s",
            baseline_is="minimal MCPServer, 1 tool",
            note="a new database each time: includes seeding the demo data",
        )
    return report

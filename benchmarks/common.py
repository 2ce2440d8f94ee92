"""What every figure shares: ratios against a baseline, interleaved samples, child processes.

The machine is shared and noisy, so no figure is an absolute time: each divides a subject by a
baseline measured in the same run, and the samples of both alternate (in a rotating order) so
that a burst of load elsewhere hits both alike. Medians, not means, so a stall does not count.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
FLOOR_SERVER = BENCHMARKS / "floor_server.py"
# Child processes may take this long to start or answer before the run gives up on them.
CHILD_TIMEOUT = 60.0


def comparison(
    subject: float, baseline: float, target: float | None, unit: str, **context: Any
) -> dict[str, Any]:
    """One figure: subject, baseline, their ratio and, if there is one, the target ratio."""
    ratio = subject / baseline
    figure: dict[str, Any] = {
        "subject": subject,
        "baseline": baseline,
        "ratio": ratio,
        "unit": unit,
        "target_ratio": target,
        "met": None if target is None else ratio <= target,
    }
    figure.update(context)
    return figure


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def rotated(names: Sequence[str], turn: int) -> list[str]:
    """``names`` starting at a different one each turn, so no subject always goes first."""
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


def interleave(rounds: int, actions: Mapping[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each round runs every action once, in a rotating order; each returns one sample."""
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for turn in range(rounds):
        for name in rotated(list(actions), turn):
            samples[name].append(actions[name]())
    return samples


async def interleave_async(
    rounds: int, actions: Mapping[str, Callable[[], Awaitable[float]]]
) -> dict[str, list[float]]:
    """:func:`interleave` for coroutines."""
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for turn in range(rounds):
        for name in rotated(list(actions), turn):
            samples[name].append(await actions[name]())
    return samples


def timed(
    action: Callable[[], Awaitable[Any]], clock: Callable[[], float] = time.perf_counter
) -> Callable[[], Awaitable[float]]:
    """An action that returns how long ``action`` took by ``clock``, in seconds.

    ``time.process_time`` counts the CPU of every thread of this process: where subject and
    baseline run entirely in this process, it is far less sensitive to other work on the
    machine than wall time.
    """

    async def run() -> float:
        started = clock()
        await action()
        return clock() - started

    return run


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in (0, 1])."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


# --- child processes -----------------------------------------------------------------------------


def memory_bytes(pid: int | str = "self", field: str = "VmRSS") -> int:
    """A memory figure of a process from ``/proc/PID/status``: its resident set now (``VmRSS``)
    or its peak (``VmHWM``), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def child_env(**extra: str) -> dict[str, str]:
    """What a desktop client passes a server it spawns: a few variables, plus ``extra``."""
    kept = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "TMPDIR", "LANG")
    env = {name: os.environ[name] for name in kept if name in os.environ}
    env.update(extra)
    return env


def avala_command(*args: str) -> list[str]:
    """``avala-mcp ARGS`` as a desktop client runs it: the console script next to this Python."""
    script = Path(sys.executable).with_name("avala-mcp")
    if script.exists():
        return [str(script), *args]
    found = shutil.which("avala-mcp")
    return [found, *args] if found else [sys.executable, "-m", "avala_mcp", *args]


def floor_command(*args: str) -> list[str]:
    """The floor server (``floor_server.py``) as a script: it imports only the SDK."""
    return [sys.executable, str(FLOOR_SERVER), *args]


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once ``port`` accepts connections; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a child: a stdio server at the end of its input, an HTTP one by SIGTERM; kill it if
    it does not stop within seconds."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def http_servers(db: Path) -> Iterator[tuple[str, str]]:
    """``avala-mcp serve --local`` (on ``db``) and the floor server on streamable HTTP, each in a
    child process; yields their URLs. Both start at once, so the wait is paid once."""
    ours_port, floor_port = free_port(), free_port()
    commands = {
        ours_port: avala_command(
            "serve", "--local", "--db", str(db),
            "--transport", "streamable-http", "--port", str(ours_port),
        ),
        floor_port: floor_command("streamable-http", str(floor_port)),
    }  # fmt: skip
    with contextlib.ExitStack() as stack:
        processes = {}
        for port, command in commands.items():
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=child_env(),
            )  # fmt: skip
            stack.callback(stop, process)
            processes[port] = process
        for port, process in processes.items():
            wait_for_port(port, process, CHILD_TIMEOUT)
        yield f"http://127.0.0.1:{ours_port}/mcp", f"http://127.0.0.1:{floor_port}/mcp"


@contextlib.contextmanager
def embedded_api(name: str, key: str) -> Iterator[str]:
    """``avala-mcp api`` on a new demo database (uvicorn on loopback, a child process) with the
    key ``key``; yields its base URL and stops it on exit."""
    with tempfile.TemporaryDirectory() as directory:
        db = seed_demo_db(Path(directory) / f"{name}.sqlite3")
        port = free_port()
        command = avala_command("api", "--db", str(db), "--api-key", key, "--port", str(port))
        with child_server(command, port, child_env(AVALA_MCP_LOG_LEVEL="WARNING")):
            yield f"http://127.0.0.1:{port}/api/v1"


@contextlib.contextmanager
def child_server(
    command: Sequence[str], port: int, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """The server ``command`` in a child process (its output discarded), once it listens on
    ``port``; yields the process and stops it on exit."""
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        wait_for_port(port, process, CHILD_TIMEOUT)
        yield process
    finally:
        stop(process)


def seed_demo_db(path: Path) -> Path:
    """A database with the demo data at ``path``, written before anything is timed."""
    from avala_mcp.embedded import close_app, create_app

    close_app(create_app(path))  # closing checkpoints the WAL into the main file
    return path


def report_in(workdir: Path | None, prefix: str, build: Callable[[Path], Any]) -> Any:
    """``build(directory)``, in ``workdir`` (kept) or in a temporary directory of ``prefix``."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return build(workdir)
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        return build(Path(directory))

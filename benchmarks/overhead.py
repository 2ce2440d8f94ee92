"""Figure 2, our layer's overhead: ``get_slice`` through MCP against its two parts.

Per transport, three calls alternate one by one (in a rotating order):

- ``mcp``: the ``get_slice`` tool through an MCP client (the subject);
- ``direct``: ``AvalaClient.get_slice`` on the same embedded API, in this process;
- ``echo``: the SDK's bare echo tool on the floor server, over the same transport.

The target is mcp <= 1.10 x (direct + echo): what the server adds beyond fetching the slice and
beyond the SDK's own cost of a call is at most a tenth. In memory, both servers run in this
process on the very app ``direct`` uses; over stdio and streamable HTTP they are child processes
(``avala-mcp serve --local`` on a copy of the same database, and ``floor_server.py``).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from jsonschema.validators import validator_for  # type: ignore[import-untyped]  # no stubs
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from avala_mcp.client import AvalaClient
from avala_mcp.commands.serve import LOCAL_BASE_URL
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.seed import DEMO_ORG, DEMO_SLICE_SLUG
from avala_mcp.server import build_server
from avala_mcp.settings import Settings
from benchmarks.common import (
    avala_command,
    child_env,
    comparison,
    floor_command,
    http_servers,
    interleave,
    interleave_async,
    median,
    seed_demo_db,
    timed,
)
from benchmarks.floor_server import build_floor

TARGET = 1.10
API_KEY = "overhead-benchmark-key"
GET_SLICE = {"owner": DEMO_ORG, "slug": DEMO_SLICE_SLUG}
ECHO = {"text": DEMO_SLICE_SLUG}


async def checked(call: Awaitable[Any]) -> None:
    """Await a tool call; a failed call is a broken benchmark, not a slow one."""
    result = await call
    if result.is_error:
        raise RuntimeError(f"a benchmark call failed: {result.content}")


@contextlib.asynccontextmanager
async def clients(transport: str, db: Path, app: Any) -> AsyncIterator[tuple[Client, Client]]:
    """MCP clients on our server and on the floor server, over ``transport``."""
    async with contextlib.AsyncExitStack() as stack:
        if transport == "in-memory":
            settings = Settings(api_key=API_KEY, base_url=LOCAL_BASE_URL)
            ours: Any = build_server(settings, transport=httpx.ASGITransport(app=app))
            floor: Any = build_floor()
        elif transport == "stdio":
            ours = StdioServerParameters(
                command=avala_command()[0],
                args=[*avala_command()[1:], "serve", "--local", "--db", str(db)],
                env=child_env(),
            )
            floor = StdioServerParameters(
                command=floor_command()[0], args=floor_command()[1:], env=child_env()
            )
        else:
            ours, floor = stack.enter_context(http_servers(db))
        ours_client = await stack.enter_async_context(Client(ours))
        floor_client = await stack.enter_async_context(Client(floor))
        yield ours_client, floor_client


async def _measure(transport: str, calls: int, warm_up: int, db: Path, app: Any) -> dict[str, Any]:
    settings = Settings(api_key=API_KEY, base_url=LOCAL_BASE_URL)
    async with (
        AvalaClient.from_settings(settings, transport=httpx.ASGITransport(app=app)) as direct,
        clients(transport, db, app) as (ours, floor),
    ):
        calls_of: dict[str, Callable[[], Awaitable[Any]]] = {
            "mcp": lambda: checked(ours.call_tool("get_slice", GET_SLICE)),
            "direct": lambda: direct.get_slice(DEMO_ORG, DEMO_SLICE_SLUG),
            "echo": lambda: checked(floor.call_tool("echo", ECHO)),
        }
        actions = {name: timed(call) for name, call in calls_of.items()}
        await interleave_async(warm_up, actions)
        samples = await interleave_async(calls, actions)
        figure = _figure(samples, TARGET, calls=calls)
        if transport == "in-memory":
            # Everything runs in this process here, so its CPU time can be measured too.
            cpu = {name: timed(call, time.process_time) for name, call in calls_of.items()}
            figure["cpu"] = _figure(await interleave_async(calls, cpu), None)
    return figure


def _figure(
    samples: dict[str, list[float]], target: float | None, **context: Any
) -> dict[str, Any]:
    mcp, direct, echo = (median(samples[name]) for name in ("mcp", "direct", "echo"))
    return comparison(
        mcp,
        direct + echo,
        target,
        "s",
        baseline_is="direct AvalaClient.get_slice + the SDK's echo tool call",
        direct=direct,
        echo=echo,
        **context,
    )


async def output_validation(rounds: int, app: Any) -> dict[str, Any]:
    """What the SDK's client spends checking one result against the tool's output schema (it
    does on every call, with jsonschema): get_slice's slice against echo's one string."""
    settings = Settings(api_key=API_KEY, base_url=LOCAL_BASE_URL)
    async with (
        Client(build_server(settings, transport=httpx.ASGITransport(app=app))) as ours,
        Client(build_floor()) as floor,
    ):
        checks = {}
        for name, client, tool, arguments in (
            ("get_slice", ours, "get_slice", GET_SLICE),
            ("echo", floor, "echo", ECHO),
        ):
            listed = {t.name: t.output_schema for t in (await client.list_tools()).tools}
            schema = listed[tool]
            assert schema is not None
            content = (await client.call_tool(tool, arguments)).structured_content
            checks[name] = functools.partial(_validate_many, validator_for(schema)(schema), content)
    samples = interleave(rounds, checks)
    return {
        "what": "seconds per result the SDK client spends on output-schema validation",
        **{name: median(values) for name, values in samples.items()},
    }


def _validate_many(validator: Any, content: Any, repeats: int = 20) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        if next(validator.iter_errors(content), None) is not None:
            raise RuntimeError("a result does not match its tool's output schema")
    return (time.perf_counter() - started) / repeats


def measure(calls: int, warm_up: int, transports: tuple[str, ...]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="avala-bench-overhead-") as workdir:
        db = seed_demo_db(Path(workdir) / "overhead.sqlite3")
        app = create_app(db, api_key=API_KEY)
        try:
            figures = {
                transport: anyio.run(_measure, transport, calls, warm_up, db, app)
                for transport in transports
            }
            # Where the in-memory overhead goes, beyond our code: see output_validation.
            figures["client_output_validation"] = anyio.run(
                output_validation, max(5, calls // 10), app
            )
        finally:
            close_app(app)
    return {"what": "one get_slice call, median seconds", **figures}

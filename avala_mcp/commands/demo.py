"""``avala-mcp demo``: a scripted MCP session against the embedded API, printed as a transcript.

The server is the real product (``avala-mcp serve --local``, spawned over stdio) and the client is
the SDK's, so the demo doubles as an end-to-end check: it exits 0 only if every step behaved as
expected, and otherwise names the step that did not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio
import mcp.types as types
from mcp import Client
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp.client.stdio import StdioServerParameters, stdio_client

from avala_mcp.embedded.seed import (
    DEMO_DATASET_NAME,
    DEMO_DATASET_UID,
    DEMO_ORG,
    DEMO_SLICE_SLUG,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
)

NEW_SLICE_NAME = "Rainy night pedestrians"
PAGE_SIZE = 3
_WIDTH = 96
# Long enough for a UUID or the demo's whole filter on one argument line.
_VALUE_WIDTH = 200


class StepFailed(Exception):
    """A step of the demo did not behave as expected."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step {step!r} failed: {reason}")
        self.step = step
        self.reason = reason


class Transcript:
    """Prints the session for a reader: a heading per step, the call, a short summary."""

    def __init__(self, out: TextIO, colour: bool) -> None:
        self.out = out
        self.colour = colour
        self.steps = 0

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:
            # The reader left (e.g. `| head`): finish the session without output, and keep the
            # interpreter's final flush from failing too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())

    def heading(self, title: str) -> None:
        self.steps += 1
        self.line()
        self.line(self._paint("1", f"{self.steps}. {title}"))

    def call(self, tool: str, arguments: dict[str, Any]) -> None:
        one_line = f"   > {tool}({', '.join(f'{k}={_short(v)}' for k, v in arguments.items())})"
        if len(one_line) <= _WIDTH:
            self.line(self._paint("36", one_line))
            return
        # One argument a line, so a long filter or UUID stays readable.
        self.line(self._paint("36", f"   > {tool}("))
        for name, value in arguments.items():
            for line in _argument_lines(name, value):
                self.wrapped("         ", "           ", line, "36")
        self.line(self._paint("36", "     )"))

    def wrapped(self, first: str, rest: str, text: str, colour: str = "") -> None:
        lines = textwrap.wrap(text, _WIDTH, initial_indent=first, subsequent_indent=rest)
        for line in lines:
            self.line(self._paint(colour, line) if colour else line)

    def result(self, text: str) -> None:
        self.wrapped("   < ", "     ", text)

    def detail(self, text: str) -> None:
        self.wrapped("       ", "         ", text)

    def ok(self, text: str) -> None:
        self.line(self._paint("32", f"   ok: {text}"))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


def _argument_lines(name: str, value: Any) -> list[str]:
    """An argument as lines; a combined filter (``{"and": [...]}``) gets a line per part."""
    if isinstance(value, dict) and len(value) == 1:
        ((combinator, parts),) = value.items()
        if isinstance(parts, list) and parts:
            return [
                f"{name}={{{json.dumps(combinator)}: [",
                *(f"    {_short(part)}," for part in parts),
                "]},",
            ]
    return [f"{name}={_short(value)},"]


class DemoSession:
    """The scripted session; each method is one step and raises :class:`StepFailed` if it fails."""

    def __init__(self, client: Client, transcript: Transcript) -> None:
        self.client = client
        self.t = transcript
        self.step = ""

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Calls a tool and returns whether it failed and its structured result."""
        self.t.call(tool, arguments)
        result = await self.client.call_tool(tool, arguments)
        structured = result.structured_content
        if structured is None:
            raise StepFailed(self.step, f"{tool} returned no structured content")
        return bool(result.is_error), structured

    async def expect_success(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        failed, data = await self.call(tool, arguments)
        if failed:
            error = data.get("error", {})
            raise StepFailed(self.step, f"{tool} failed: {error.get('message', data)}")
        return data

    async def expect_failure(
        self, tool: str, arguments: dict[str, Any], error_type: str
    ) -> dict[str, Any]:
        failed, data = await self.call(tool, arguments)
        error = data.get("error") or {}
        if not failed or error.get("type") != error_type:
            raise StepFailed(self.step, f"expected a {error_type} failure from {tool}, got {data}")
        self.t.result(f"failure {error['type']} (status {error.get('status')}): {error['message']}")
        if not error.get("hint"):
            raise StepFailed(self.step, f"the {error_type} failure carries no hint")
        self.t.detail(f"hint: {error['hint']}")
        return error

    @contextmanager
    def step_named(self, title: str) -> Iterator[None]:
        self.step = title
        self.t.heading(title)
        try:
            yield
        except StepFailed:
            raise
        except Exception as exc:  # any surprise (a dead server, a protocol error) fails the step
            raise StepFailed(title, f"{type(exc).__name__}: {exc}") from exc

    async def run(self) -> None:
        await self.list_slices()
        await self.validate_name()
        owner, slug = await self.create_slice()
        await self.read_items(owner, slug)
        await self.duplicate_name()
        await self.delete(owner, slug)
        await self.missing_slice(owner, slug)

    async def list_slices(self) -> None:
        with self.step_named(f"List the slices of the organization {DEMO_ORG!r}"):
            tools = await self.client.list_tools()
            names = ", ".join(tool.name for tool in tools.tools)
            self.t.wrapped("   ", "   ", f"The server offers {len(tools.tools)} tools: {names}.")
            page = await self.expect_success("list_slices", {"owner": DEMO_ORG})
            slices = page["slices"]
            self.t.result(f"{page['count']} slices; the first {min(4, len(slices))}:")
            for s in slices[:4]:
                self.t.detail(f"{s['name']} ({s['slug']}): {s['item_count']} items")
            if not any(s["slug"] == DEMO_SLICE_SLUG for s in slices):
                raise StepFailed(self.step, f"{DEMO_SLICE_SLUG!r} is not among the slices")
            self.t.ok(f"{DEMO_SLICE_SLUG!r} is there")

    async def validate_name(self) -> None:
        with self.step_named("Check that the new slice's name is free"):
            answer = await self.expect_success(
                "validate_slice_name", {"name": NEW_SLICE_NAME, "dataset": DEMO_DATASET_UID}
            )
            self.t.result(f"valid={answer['valid']}, slug={answer.get('slug')!r}")
            if answer["valid"] is not True:
                raise StepFailed(self.step, f"the name was refused: {answer.get('reasons')}")
            self.t.ok("the name is free")

    async def create_slice(self) -> tuple[str, str]:
        with self.step_named(f"Create {NEW_SLICE_NAME!r} from {DEMO_DATASET_NAME!r}"):
            self.t.line("   Filter: night scenes, in rain, with at least one pedestrian.")
            created = await self.expect_success(
                "create_slice",
                {
                    "name": NEW_SLICE_NAME,
                    "dataset": DEMO_DATASET_UID,
                    "description": "Night scenes in rain with pedestrians",
                    "filter": RAINY_NIGHT_PEDESTRIANS_FILTER,
                },
            )
            owner, slug, count = created["owner"], created["slug"], created["item_count"]
            self.t.result(f"created {owner}/{slug} with {count} items")
            uri = next((v for k, v in created.items() if k.endswith("uri")), None)
            if uri:
                self.t.detail(f"resource: {uri}")
            if count < 2 * PAGE_SIZE:
                raise StepFailed(self.step, f"expected at least {2 * PAGE_SIZE} items, got {count}")
            self.t.ok("the slice exists")
            return owner, slug

    async def read_items(self, owner: str, slug: str) -> None:
        with self.step_named(f"Read its items, {PAGE_SIZE} at a time, across two pages"):
            seen: list[str] = []
            cursor: str | None = None
            for number in (1, 2):
                arguments: dict[str, Any] = {"owner": owner, "slug": slug, "limit": PAGE_SIZE}
                if cursor:
                    arguments["cursor"] = cursor
                page = await self.expect_success("list_slice_items", arguments)
                items = page["items"]
                self.t.result(f"page {number}: {len(items)} of {page['count']} items")
                for item in items:
                    self.t.detail(f"{item['key']}  {_metadata_summary(item.get('metadata'))}")
                seen += [item["uid"] for item in items]
                cursor = page.get("next_cursor")
                if len(items) != PAGE_SIZE or not cursor:
                    raise StepFailed(self.step, f"page {number} was short or had no next_cursor")
            if len(set(seen)) != len(seen):
                raise StepFailed(self.step, "the two pages overlap")
            self.t.ok("two pages, no item twice; next_cursor continues from there")

    async def duplicate_name(self) -> None:
        with self.step_named("Try to create a second slice with the same name"):
            await self.expect_failure(
                "create_slice", {"name": NEW_SLICE_NAME, "dataset": DEMO_DATASET_UID}, "conflict"
            )
            self.t.ok("refused as a conflict, nothing created")

    async def delete(self, owner: str, slug: str) -> None:
        with self.step_named("Delete the slice, with the user's confirmation"):
            answer = await self.expect_success("delete_slice", {"owner": owner, "slug": slug})
            self.t.result(f"deleted={answer['deleted']} ({answer['owner']}/{answer['slug']})")
            if answer["deleted"] is not True:
                raise StepFailed(self.step, "the slice was not deleted")
            self.t.ok("deleted after the user said yes")

    async def missing_slice(self, owner: str, slug: str) -> None:
        with self.step_named("Ask for the deleted slice: a failure, and its hint"):
            await self.expect_failure("get_slice", {"owner": owner, "slug": slug}, "not_found")
            self.t.ok("a structured failure telling the model what to call next")


def _metadata_summary(metadata: Any) -> str:
    if not isinstance(metadata, dict):
        return ""
    keys = ("time_of_day", "weather", "pedestrians")
    return ", ".join(f"{k}={metadata[k]}" for k in keys if k in metadata)


def _confirming_callback(transcript: Transcript) -> ElicitationFnT:
    """An elicitation answer that says yes, printing the question as a user would see it."""

    async def answer(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        transcript.wrapped("   ? ", "     ", f'the server asks the user: "{params.message}"')
        content: dict[str, str | int | float | bool | list[str] | None] = {}
        if isinstance(params, types.ElicitRequestFormParams):
            for name, schema in params.requested_schema.get("properties", {}).items():
                if schema.get("type") == "boolean":
                    content[name] = True
        transcript.line(f"   ! the user answers: accept {json.dumps(content)}")
        return types.ElicitResult(action="accept", content=content)

    return answer


def server_parameters(db_path: Path) -> StdioServerParameters:
    """``avala-mcp serve --local`` on ``db_path``, run by this interpreter."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "avala_mcp", "serve", "--local", "--db", str(db_path)],
    )


async def run_demo(db_path: Path, out: TextIO, colour: bool = False) -> None:
    """Runs the whole session; raises :class:`StepFailed` naming the first step that failed."""
    transcript = Transcript(out, colour)
    transcript.line(
        "avala-mcp demo: a real MCP client drives `avala-mcp serve --local` over stdio,"
    )
    transcript.line(
        "against the embedded Slices API and its demo data (nothing leaves this machine)."
    )
    transcript.line(f"Database: {db_path}")
    params = server_parameters(db_path)
    try:
        async with Client(
            stdio_client(params), elicitation_callback=_confirming_callback(transcript)
        ) as client:
            await DemoSession(client, transcript).run()
    except Exception as exc:
        # The client's task groups may wrap a step's failure in an exception group.
        failure = _find_step_failure(exc)
        if failure is not None:
            raise failure from None
        raise StepFailed("connect to the server", f"{type(exc).__name__}: {exc}") from exc
    transcript.line()
    transcript.line(f"All {transcript.steps} steps behaved as expected.")


def _find_step_failure(exc: BaseException) -> StepFailed | None:
    if isinstance(exc, StepFailed):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_step_failure(inner)
            if found is not None:
                return found
    return None


def demo_command(args: argparse.Namespace) -> int:
    """Entry point of ``avala-mcp demo``."""
    colour = sys.stdout.isatty()
    try:
        if args.db is not None:
            anyio.run(run_demo, Path(args.db), sys.stdout, colour)
        else:
            with tempfile.TemporaryDirectory(prefix="avala-mcp-demo-") as tmp:
                anyio.run(run_demo, Path(tmp) / "demo.db", sys.stdout, colour)
    except StepFailed as failure:
        print(f"\ndemo failed at step {failure.step!r}: {failure.reason}", file=sys.stdout)
        print(f"avala-mcp demo: step {failure.step!r} failed: {failure.reason}", file=sys.stderr)
        return 1
    return 0

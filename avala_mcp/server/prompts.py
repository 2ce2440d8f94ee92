"""The MCP prompts, each declared once: its arguments as a pydantic model, and the function
that renders its text, whose parameters are the model's fields (so the SDK lists the same
arguments; a test holds the two together).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, ConfigDict, Field

from avala_mcp.server.catalog import FILTER_LANGUAGE
from avala_mcp.server.inputs import DatasetUid, Owner, Slug

Goal = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        description="The items the slice should hold, in plain words, e.g. 'rainy night scenes "
        "with pedestrians'.",
    ),
]


class PromptInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildSliceInput(PromptInput):
    dataset: DatasetUid
    goal: Goal


class ExploreSliceInput(PromptInput):
    owner: Owner
    slug: Slug


# Async, so that the SDK renders them on the event loop rather than in a worker thread.


async def build_slice(dataset: DatasetUid, goal: Goal) -> str:
    return (
        f"Build a slice of dataset {dataset} holding: {goal}\n\n"
        "1. Learn the metadata first, so the filter uses real field names and values: call "
        f"list_slices(owner=<the dataset's owner>, dataset='{dataset}') (ask me for the owner "
        "if you do not know it), then list_slice_items on one of its slices.\n"
        "2. Pick a short, descriptive name and call validate_slice_name(name=..., "
        f"dataset='{dataset}'). If it is not valid, choose another name using its reasons.\n"
        f"3. Write the filter. {FILTER_LANGUAGE}.\n"
        f"   Then call create_slice(name=..., dataset='{dataset}', description=..., filter=...).\n"
        "4. Verify: call list_slice_items(owner=..., slug=...) on the new slice and check that "
        "the items match the goal and that item_count is plausible. If they do not, tell me "
        "what is wrong and propose a corrected filter.\n\n"
        "Finish with the slice's name, owner/slug, item_count and resource URI. If a tool "
        "fails, read the error's message and hint and follow the hint."
    )


async def explore_slice(owner: Owner, slug: Slug) -> str:
    return (
        f"Explore the slice {owner}/{slug} and tell me what it holds.\n\n"
        f"1. Call get_slice(owner='{owner}', slug='{slug}'): explain its purpose, its filter "
        "in plain words and its item_count.\n"
        f"2. Call list_slice_items(owner='{owner}', slug='{slug}') (concise detail) and "
        "summarise the items: the metadata fields, their typical values and anything that "
        "looks out of place.\n"
        "3. Read further pages (cursor=next_cursor) only if the first page is not enough to "
        "answer; use detail='full' only for a specific item you need in full.\n\n"
        "Finish with a short summary and one or two questions this slice could help answer."
    )


@dataclass(frozen=True, kw_only=True)
class PromptSpec:
    """One MCP prompt; ``render`` takes the fields of ``input_model`` as keyword arguments."""

    name: str
    title: str
    description: str
    input_model: type[PromptInput]
    render: Callable[..., Awaitable[str]]


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        name="build_slice",
        title="Build a slice",
        description="Guide the model to build a slice of a dataset for a goal: learn the "
        "metadata, validate a name, create the slice with a filter, verify its items.",
        input_model=BuildSliceInput,
        render=build_slice,
    ),
    PromptSpec(
        name="explore_slice",
        title="Explore a slice",
        description="Guide the model to read a slice and its items, and summarise what it holds.",
        input_model=ExploreSliceInput,
        render=explore_slice,
    ),
)


def register_prompts(server: MCPServer[Any], specs: tuple[PromptSpec, ...] = PROMPTS) -> None:
    """Register each of ``specs`` with the SDK, its arguments read from its function."""
    for spec in specs:
        server.prompt(name=spec.name, title=spec.title, description=spec.description)(spec.render)

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


PromptDataset = Annotated[
    DatasetUid | None,
    Field(description="UUID of the dataset to slice; omit to find it with list_datasets."),
]


class BuildSliceInput(PromptInput):
    goal: Goal
    dataset: PromptDataset = None


class ExploreSliceInput(PromptInput):
    owner: Owner
    slug: Slug


# Async, so that the SDK renders them on the event loop rather than in a worker thread.


async def build_slice(goal: Goal, dataset: PromptDataset = None) -> str:
    target = f"dataset {dataset}" if dataset else "a dataset"
    uid = f"'{dataset}'" if dataset else "<its uid>"
    find = (
        f"1. The dataset is {dataset}; call list_datasets only if you need its name or owner."
        if dataset
        else "1. Find the dataset: call list_datasets (name= narrows it down) and ask me which "
        "one if several fit."
    )
    return (
        f"Build a slice of {target} holding: {goal}\n\n"
        f"{find}\n"
        f"2. Learn its fields and values: call describe_dataset(dataset={uid}), so the filter "
        "uses real field paths and values.\n"
        f"3. Write the filter. {FILTER_LANGUAGE}.\n"
        f"   Try it with preview_slice(dataset={uid}, filter=...): check count and the "
        "example items, and fix whatever its warnings name before going on.\n"
        "4. Pick a short, descriptive name and call validate_slice_name(name=..., "
        f"dataset={uid}). If it is not valid, choose another name using its reasons.\n"
        f"5. Call create_slice(name=..., dataset={uid}, description=..., filter=...).\n"
        "6. Verify: call describe_slice(owner=..., slug=...) on the new slice and check that "
        "its values match the goal and that item_count is what the preview said. If they do "
        "not, tell me what is wrong and propose a corrected filter.\n\n"
        "Finish with the slice's name, owner/slug, item_count and resource URI. If a tool "
        "fails, read the error's message and hint and follow the hint."
    )


async def explore_slice(owner: Owner, slug: Slug) -> str:
    return (
        f"Explore the slice {owner}/{slug} and tell me what it holds.\n\n"
        f"1. Call get_slice(owner='{owner}', slug='{slug}'): explain its purpose, its filter "
        "in plain words and its item_count.\n"
        f"2. Call describe_slice(owner='{owner}', slug='{slug}') and summarise its fields: "
        "their values and how many items hold each, and anything that looks out of place.\n"
        f"3. Call list_slice_items(owner='{owner}', slug='{slug}') (concise detail) for a few "
        "example items. Read further pages (cursor=next_cursor) only if needed; use "
        "detail='full' only for a specific item you need in full.\n\n"
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
        description="Guide the model to build a slice for a goal: find the dataset, describe "
        "its fields, preview a filter, validate a name, create the slice, verify it.",
        input_model=BuildSliceInput,
        render=build_slice,
    ),
    PromptSpec(
        name="explore_slice",
        title="Explore a slice",
        description="Guide the model to read a slice, describe its fields and items, and "
        "summarise what it holds.",
        input_model=ExploreSliceInput,
        render=explore_slice,
    ),
)


def register_prompts(server: MCPServer[Any], specs: tuple[PromptSpec, ...] = PROMPTS) -> None:
    """Register each of ``specs`` with the SDK, its arguments read from its function."""
    for spec in specs:
        server.prompt(name=spec.name, title=spec.title, description=spec.description)(spec.render)

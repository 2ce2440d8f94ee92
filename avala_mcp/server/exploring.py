"""The exploring tools' work: find a dataset, describe its fields, preview a filter, check it.

Each function takes the client and a validated tool input, as the catalog's ``run`` does. The
filter checks (:mod:`avala_mcp.server.filter_checks`) run on a profile of the dataset read here,
for ``preview_slice`` (which warns) and ``create_slice`` (which refuses a field or a value type no
item has, when the profile is exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from avala_mcp.client.errors import InvalidInputError
from avala_mcp.client.models import Profile
from avala_mcp.filters import Node
from avala_mcp.server.filter_checks import (
    MAX_LISTED_DISTINCT,
    Finding,
    check_filter,
    empty_selection,
    filter_paths,
    refusals,
)
from avala_mcp.server.inputs import (
    DescribeDatasetInput,
    DescribeSliceInput,
    ListDatasetsInput,
    PreviewSliceInput,
)
from avala_mcp.server.outputs import (
    DatasetList,
    DatasetProfile,
    Preview,
    dataset_summary,
    described,
    field_stats,
    item_views,
)

if TYPE_CHECKING:
    from avala_mcp.client import AvalaClient

# Values per field a preview shows: the selection's shape, not its every value.
_PREVIEW_TOP = 5


async def list_datasets(client: AvalaClient, args: ListDatasetsInput) -> DatasetList:
    page = await client.list_datasets(name=args.name, cursor=args.cursor, limit=args.limit)
    entries = [dataset_summary(dataset) for dataset in page.results]
    count = page.count
    if args.owner is not None:
        # The API lists by name only. A dataset whose owner the API leaves out stays listed.
        kept = [entry for entry in entries if entry.owner in (None, args.owner)]
        if len(kept) < len(entries):
            whole = args.cursor is None and page.next_cursor is None
            count = len(kept) if whole else None
        entries = kept
    return DatasetList(count=count, next_cursor=page.next_cursor, datasets=entries)


async def describe_dataset(client: AvalaClient, args: DescribeDatasetInput) -> DatasetProfile:
    profile = await client.profile(
        dataset=args.dataset, filter=args.filter, fields=args.fields, top=args.top
    )
    return described(profile)


async def describe_slice(client: AvalaClient, args: DescribeSliceInput) -> DatasetProfile:
    profile = await client.profile(slice=(args.owner, args.slug), fields=args.fields, top=args.top)
    return described(profile)


async def preview_slice(client: AvalaClient, args: PreviewSliceInput) -> Preview:
    checked = None if args.filter is None else await check(client, args.dataset, args.filter)
    paths = [] if args.filter is None else filter_paths(args.filter)
    selection = await select(client, args.dataset, args.filter, args.sample, paths, _PREVIEW_TOP)
    sampled = None if selection.exact else selection.sampled
    warnings = [] if checked is None else checked.warnings
    if (empty := empty_selection(selection.count, sampled=sampled)) is not None:
        warnings.append(empty)
    return Preview(
        dataset=selection.dataset,
        count=selection.count,
        exact=selection.exact,
        sampled=sampled,
        items=item_views(selection.items, "concise"),
        fields=[field_stats(field) for field in selection.fields],
        warnings=warnings,
    )


async def select(
    client: AvalaClient,
    dataset: str,
    node: Node | None,
    count: int,
    fields: Sequence[str] = (),
    top: int = 1,
) -> Profile:
    """What ``node`` selects in ``dataset``: its profile at ``fields``, and its first ``count``
    items. How preview_slice and show_items pick a filter's items."""
    profile = await client.profile(
        dataset=dataset, filter=node, fields=list(fields), top=top, sample=count
    )
    profile.items = profile.items[:count]
    return profile


async def check(client: AvalaClient, dataset: str, node: Node) -> FilterCheck:
    """The filter checks of ``node`` against the profile of ``dataset``.

    One profile of the filter's metadata paths (with every value of a field that has few); a
    second, of every path, only when one of them is unknown, to name its nearest neighbours.
    """
    paths = filter_paths(node)
    if not paths:
        return FilterCheck(findings=[], refused=[])
    profile = await client.profile(dataset=dataset, fields=paths, top=MAX_LISTED_DISTINCT)
    known: list[str] = []
    if any(field.present == 0 for field in profile.fields):
        everything = await client.profile(dataset=dataset, top=1)
        known = [field.path for field in everything.fields]
    findings = check_filter(node, profile, known)
    return FilterCheck(findings=findings, refused=refusals(findings, profile))


@dataclass(frozen=True)
class FilterCheck:
    """What the checks found; ``refused`` is what ``create_slice`` refuses the filter for."""

    findings: list[Finding]
    refused: list[Finding]

    @property
    def warnings(self) -> list[str]:
        return [finding.message for finding in self.findings]


def refusal(findings: list[Finding], dataset: str) -> InvalidInputError:
    """The ``invalid_input`` of a filter with a field or a value type no item has."""
    error = InvalidInputError.for_fields({"filter": [finding.message for finding in findings]})
    fix = next((f.suggestion for f in findings if f.suggestion), None)
    see = f"describe_dataset(dataset='{dataset}') lists every field, its types and values"
    error.hint = f"fix the filter ({fix}); {see}" if fix else f"fix the filter; {see}"
    return error

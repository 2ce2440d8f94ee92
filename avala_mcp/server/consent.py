"""The user's consent to a deletion: asked through the SDK's resolvers, on either protocol era.

``delete_slice`` declares ``answer: Annotated[ElicitationResult[ConfirmDeletion],
Resolve(ask_consent)]``; the SDK runs :func:`ask_consent` before the tool body and sends the
question it returns as ``elicitation/create`` (up to 2025-11-25) or inside an input-required
round trip (2026-07-28). A client that cannot ask falls back to the ``confirm`` argument.
"""

import pydantic
from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Elicit,
    ElicitationResult,
)
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError

from avala_mcp.client.errors import quoted
from avala_mcp.server.catalog import Consent
from avala_mcp.server.state import RequestContext, client_of


class ConfirmDeletion(pydantic.BaseModel):
    """What the user is asked before a deletion.

    Strict: only JSON ``true`` confirms. Lax validation would take ``"yes"``, ``"true"``, ``1``
    or ``"on"`` for true and delete; strictly, those fail the form, and an answer that fails it
    is :data:`~avala_mcp.server.catalog.Consent.UNCLEAR` (see :func:`unreadable_answer`).
    """

    model_config = pydantic.ConfigDict(strict=True)

    confirm: bool = pydantic.Field(description="Delete it?")


def can_elicit(ctx: RequestContext) -> bool:
    """Whether the client can answer a form; a bare ``elicitation: {}`` can, url-only cannot."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


async def ask_consent(
    owner: str, slug: str, confirm: str | None, ctx: RequestContext
) -> Elicit[ConfirmDeletion] | ConfirmDeletion:
    """Ask the user (on either protocol era); a client that cannot ask needs ``confirm``."""
    # Fetched first so that a missing slice fails at once, rather than after the user (or, for a
    # client that cannot ask, the model asking the user) approved deleting nothing; and so that
    # the question says what is at stake.
    target = await client_of(ctx).get_slice(owner, slug)
    if not can_elicit(ctx):
        return ConfirmDeletion(confirm=confirm == f"{owner}/{slug}")
    # The facts first and the name (the one part the user's text can choose) last, quoted so
    # that no character of it can hide, reorder or pose as the question's own words.
    return Elicit(
        f"Delete the slice {owner}/{slug} ({target.item_count} items), named "
        f"{quoted(target.name)}? Its dataset's items are kept, but the slice cannot be restored.",
        ConfirmDeletion,
    )


def consent(answer: ElicitationResult[ConfirmDeletion], ctx: RequestContext) -> Consent:
    """What ``answer`` means; an unconfirmed fallback is consent missing, not declined."""
    if isinstance(answer, AcceptedElicitation):
        if answer.data.confirm:
            return Consent.GIVEN
        return Consent.DECLINED if can_elicit(ctx) else Consent.MISSING
    return Consent.CANCELLED if isinstance(answer, CancelledElicitation) else Consent.DECLINED


def unreadable_answer(exc: BaseException) -> bool:
    """Whether ``exc`` is the SDK refusing the user's answer to a resolver's question.

    An answer accepted with no content, or with content the form does not take (``{}``,
    ``{"confirm": "yes"}``), makes the SDK's resolver raise a deliberate ToolError, which the
    tool call wraps in another; the tool body never runs. A crash is an UnexpectedToolError,
    and the tools themselves raise AvalaErrors, never ToolError, so this is the answer alone.
    """
    return (
        isinstance(exc, ToolError)
        and not isinstance(exc, UnexpectedToolError)
        and isinstance(exc.__cause__, ToolError)
    )

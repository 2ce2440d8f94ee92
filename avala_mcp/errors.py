"""The client's error types, where the README has always shown them.

They live in :mod:`avala_mcp.client.errors`; this module re-exports them.
"""

from avala_mcp.client.errors import (
    AuthenticationError,
    AvalaError,
    ConfirmationRequiredError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    ValidationError,
    failure_payload,
)

__all__ = [
    "AuthenticationError",
    "AvalaError",
    "ConfirmationRequiredError",
    "ConflictError",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyError",
    "ServerError",
    "ValidationError",
    "failure_payload",
]

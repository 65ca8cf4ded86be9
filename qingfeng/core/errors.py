"""Domain errors.

Services raise these; the API exception handler and the web views turn them into
a response with a message a clerk understands. Nothing is half-written when one is
raised, because every service runs inside a transaction.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input is well-formed but wrong; `extra["fields"]` maps field -> messages."""

    status_code = 422
    default_message = "Some fields are not valid."

    def __init__(self, fields: dict[str, list[str]] | None = None, message: str | None = None) -> None:
        super().__init__(message, extra={"fields": fields or {}})
        self.fields = fields or {}


class PermissionDenied(DomainError):
    status_code = 403
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    status_code = 404
    default_message = "Not found."


class Conflict(DomainError):
    """The action is not allowed from the current state (or would duplicate something)."""

    status_code = 409
    default_message = "This action is not allowed in the current state."


class TooLarge(DomainError):
    status_code = 413
    default_message = "The upload is too large."

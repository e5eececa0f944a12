"""Errors the emulator raises, each carrying Courier's HTTP status and error ``type``."""

from __future__ import annotations


class EmulatorError(Exception):
    """Base class: an error that becomes a Courier-shaped JSON error response."""

    status: int = 400
    type: str = "invalid_request_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_body(self) -> dict[str, str]:
        """Return Courier's error body, ``{"type": ..., "message": ...}``."""
        return {"type": self.type, "message": self.message}


class InvalidRequest(EmulatorError):
    """400: the request is malformed or breaks a preference rule."""

    status = 400


class PaymentRequired(EmulatorError):
    """402: the workspace's plan lacks the feature the request uses (channel customization)."""

    status = 402


class Unauthorized(EmulatorError):
    """401: the Bearer API key is missing or wrong."""

    status = 401
    type = "authentication_error"


class NotFound(EmulatorError):
    """404: the user-visible resource (topic, section) does not exist."""

    status = 404


class Conflict(EmulatorError):
    """409: the request conflicts with the current state (e.g. archiving a non-empty section)."""

    status = 409

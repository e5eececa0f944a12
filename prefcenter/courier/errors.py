"""The one small error tree every Courier call raises from."""


class CourierError(Exception):
    """Anything that went wrong talking to Courier."""


class CourierUnavailable(CourierError):
    """Courier could not be reached, timed out, was rate limited or failed (5xx)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, final: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds Courier asked us to wait, when it said
        self.final = final  # Courier said not to retry (x-should-retry: false)


class CourierMalformedResponse(CourierUnavailable):
    """Courier answered with JSON we cannot read: an upstream fault, not the user's."""


class CourierNotFound(CourierError):
    """Courier does not know the user's topic or section (404)."""


class CourierRejected(CourierError):
    """Courier refused the request (another 4xx); `message` is Courier's own explanation."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"Courier refused the request ({status_code}): {message}")
        self.status_code = status_code
        self.message = message


class InvalidIdentifier(CourierError, ValueError):
    """An id that cannot be sent as a path segment ("", "." or ".."); nothing was sent.

    Courier's own SDK refuses these before any request, even encoded: URL normalisation
    anywhere on the way would turn them into another resource.
    """

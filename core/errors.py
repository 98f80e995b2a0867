"""The domain error hierarchy.

Errors describe *what* went wrong in domain terms; the HTTP adapter maps each class to a
status and an RFC 9457 problem document in one place (``dawai.adapters.http.problems``).
A detail never carries a key or a stack trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

__all__ = [
    "BrokenVoice",
    "Conflict",
    "DawaiError",
    "FieldError",
    "InvalidInput",
    "MissingCredentials",
    "NotConfigured",
    "NotFound",
    "Overloaded",
    "RateLimited",
    "RenderCancelled",
    "ServerShuttingDown",
    "TooLarge",
    "UnstructuredReply",
    "UpstreamAuthError",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamTruncated",
]


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: a dotted path (``notes.3.pitch``) and what is wrong with it."""

    field: str
    message: str


class DawaiError(Exception):
    """Base of every error the service reports to a client."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DawaiError):
    """The request is malformed or breaks a rule; ``errors`` names the fields."""

    title = "Invalid request"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = tuple(errors)


class NotFound(DawaiError):
    title = "Not found"


class Conflict(DawaiError):
    """The resource is not in a state that allows this yet: a render job's audio asked for
    while it still runs, or after it failed or was cancelled."""

    title = "Not ready"


class RenderCancelled(DawaiError):
    """A render was cancelled: raised by a progress callback (``ProgressCallback``) to stop
    the voice between stages or chunks, and let through by the voice."""

    title = "Render cancelled"

    def __init__(self, detail: str = "The render was cancelled.") -> None:
        super().__init__(detail)


class TooLarge(DawaiError):
    """The request asks for more than a configured limit allows (a render too long)."""

    title = "Request too large"


class Overloaded(DawaiError):
    """Every slot for this kind of work is taken and the queue is full: try again soon
    (``retry_after`` seconds, when known)."""

    title = "Server busy"

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotConfigured(DawaiError):
    """Nothing is configured to serve this: no such provider, voice or engine."""

    title = "Not configured"


class BrokenVoice(NotConfigured):
    """A voice whose files cannot be used (a broken or half-copied voicebank): 503, and the
    voice is reported as failed while the others go on."""

    title = "Voice unavailable"


class MissingCredentials(DawaiError):
    """No usable key for a provider; ``setting`` names what the operator can configure."""

    title = "Provider key missing"

    def __init__(self, provider: str, setting: str) -> None:
        super().__init__(
            f"No API key for provider '{provider}'. Send one in apiKeys.{provider}, "
            f"or configure {setting} on the server."
        )
        self.provider = provider
        self.setting = setting


class UpstreamError(DawaiError):
    """The upstream provider failed. ``retryable`` marks 5xx and connection failures."""

    title = "Upstream provider error"

    def __init__(self, detail: str, *, provider: str = "", retryable: bool = False) -> None:
        super().__init__(detail)
        self.provider = provider
        self.retryable = retryable


class UpstreamAuthError(UpstreamError):
    """The upstream rejected the key we sent."""

    title = "Provider rejected the key"


class UpstreamTruncated(UpstreamError):
    """A stream ended without the provider's stop signal: the reply is incomplete."""

    title = "Upstream stream was cut"


class UnstructuredReply(UpstreamError):
    """Structured output was asked for and the model answered with text that holds no
    JSON (prose only); ``text`` is what it wrote, for a feature to show or explain."""

    title = "Model answered without structure"

    def __init__(self, detail: str, *, text: str, provider: str = "") -> None:
        super().__init__(detail, provider=provider)
        self.text = text


class UpstreamTimeout(DawaiError):
    title = "Upstream timeout"

    def __init__(self, detail: str, *, provider: str = "") -> None:
        super().__init__(detail)
        self.provider = provider


class RateLimited(DawaiError):
    """Rate limited upstream (or here); ``retry_after`` is in seconds when known."""

    title = "Rate limited"

    def __init__(self, detail: str, *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.provider = provider
        self.retry_after = retry_after


class ServerShuttingDown(DawaiError):
    """The server is stopping: a stream still open is ended rather than cut."""

    title = "Server shutting down"

    def __init__(self, detail: str = "The server is shutting down; send the request again.") -> None:
        super().__init__(detail)

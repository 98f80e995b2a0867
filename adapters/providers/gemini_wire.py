"""Gemini's wire format, as far as we read it: streamed ``GenerateContentResponse`` chunks
decoded with msgspec (docs/adr/0011), model names and continuation tokens the way
google-genai writes them."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Iterator

import msgspec

from dawai.adapters.upstream.sse_reader import SSEParser
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.models import Usage

__all__ = ["Chunk", "decode_chunk", "gemini_sse", "model_path", "token_bytes", "total_usage"]


class _Part(msgspec.Struct):
    text: str | None = None
    thought: bool | None = None


class _Content(msgspec.Struct):
    parts: list[_Part] = []


class _Candidate(msgspec.Struct, rename="camel"):
    content: _Content | None = None
    finish_reason: str | None = None
    continuation_token: str | None = None


class _UsageMetadata(msgspec.Struct, rename="camel"):
    prompt_token_count: int | None = None
    candidates_token_count: int | None = None


class _PromptFeedback(msgspec.Struct, rename="camel"):
    block_reason: str | None = None


class _Error(msgspec.Struct):
    code: int | None = None
    message: str | None = None


class Chunk(msgspec.Struct, rename="camel"):
    candidates: list[_Candidate] = []
    usage_metadata: _UsageMetadata | None = None
    prompt_feedback: _PromptFeedback | None = None
    error: _Error | None = None

    def text(self) -> str:
        """The first candidate's text, thoughts left out."""
        if not self.candidates or self.candidates[0].content is None:
            return ""
        return "".join(p.text for p in self.candidates[0].content.parts if p.text and not p.thought)

    def usage(self) -> Usage | None:
        meta = self.usage_metadata
        return None if meta is None else Usage(meta.prompt_token_count or 0, meta.candidates_token_count or 0)


decode_chunk = msgspec.json.Decoder(Chunk).decode


# The model is a path segment of the request URL (``models/{model}:streamGenerateContent``):
# one segment, no ``:`` (it would name another method) and nothing else a URL gives a
# meaning to, after an optional ``models/`` or ``tunedModels/`` collection.
_MODEL_NAME = re.compile(r"(?:models/|tunedModels/)?[A-Za-z0-9][A-Za-z0-9._@+=\-]*")


def model_path(model: str) -> str:
    """The Gemini API's resource name for ``model``, as google-genai writes it; a name that
    would reach another resource or method is refused."""
    if not _MODEL_NAME.fullmatch(model):
        message = "a Gemini model name is one path segment: letters, digits and . _ @ + = -"
        raise InvalidInput(f"Invalid Gemini model name: {message}.", [FieldError("model", message)])
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def token_bytes(token: str) -> bytes:
    """A continuation token as the bytes google-genai decodes it to (either base64
    alphabet, padded or not)."""
    return base64.b64decode(token.replace("-", "+").replace("_", "/") + "=" * (-len(token) % 4))


def total_usage(first: Usage | None, then: Usage | None) -> Usage | None:
    """The usage of two requests of one reply, added up."""
    if first is None or then is None:
        return first or then
    return Usage(first.input_tokens + then.input_tokens, first.output_tokens + then.output_tokens)


class _GeminiSSE(SSEParser):
    """Server-Sent Events, keeping what google-genai also reads: an error document sent as
    bare JSON lines, outside any ``data:`` field, in the middle of a 200 stream."""

    def __init__(self, max_event_bytes: int) -> None:
        super().__init__(max_event_bytes)
        self.stray: list[bytes] = []
        self._stray_size = 0

    def _line(self, line: bytes) -> Iterator[tuple[str, bytes]]:
        if line and not line.startswith((b"data:", b"event:", b"id:", b"retry:", b":")):
            self._stray_size += len(line)
            if self._stray_size > self.max_event_bytes:
                self.stray, self._stray_size = [], 0
                raise self._too_large()
            self.stray.append(line)
            return iter(())
        return super()._line(line)

    def stray_document(self) -> bytes | None:
        """The bare JSON collected so far, once it is a whole document."""
        if not self.stray:
            return None
        document = b"\n".join(self.stray)
        try:
            msgspec.json.decode(document)
        except msgspec.DecodeError:
            return None
        self.stray, self._stray_size = [], 0
        return document


async def gemini_sse(chunks: AsyncIterator[bytes], max_event_bytes: int) -> AsyncIterator[bytes]:
    """The ``data`` of each event of a streamed body, and any bare JSON document in it."""
    parser = _GeminiSSE(max_event_bytes)
    async for chunk in chunks:
        for _event, data in parser.feed(chunk):
            yield data
        document = parser.stray_document()
        if document is not None:
            yield document
    for _event, data in parser.close():
        yield data
    document = parser.stray_document()
    if document is not None:
        yield document

"""JSON request bodies: ``application/json`` only, present, and nested at most 64 deep.

Litestar decodes a JSON body into plain Python values before converting it to the
handler's struct, and fields typed ``Any`` (``context``) take whatever nesting arrives:
a deeply nested body made the decoder raise ``RecursionError``, a 500 (docs/adr/0016).
So every route with a ``data`` body is checked before it is decoded, by
``check_json_request`` (the app's ``before_request`` hook), and decoded by
``BoundedJsonRequest.json()``:

- a media type other than ``application/json`` (parameters allowed) is a 415: a
  ``text/plain`` POST is a CORS "simple request" any web page can send without a preflight;
- an empty body is a 400 that says so;
- nesting deeper than ``MAX_JSON_DEPTH`` arrays and objects is a 400, found by a byte
  scan (``json_depth_exceeds``) that costs two ``bytes.count`` calls for the usual body;
- invalid JSON or UTF-8 is a 400 naming the decoder's complaint.
"""

from __future__ import annotations

import operator
import re
from itertools import accumulate, chain, zip_longest
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, HTTPException

__all__ = ["MAX_JSON_DEPTH", "BoundedJsonRequest", "check_json_request", "json_depth_exceeds"]

MAX_JSON_DEPTH = 64

_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_RUNS = re.compile(rb"\[+|\]+")
_DECODER = msgspec.json.Decoder()


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether valid JSON ``body`` nests arrays and objects deeper than ``limit``.

    Exact for valid JSON; for invalid JSON the answer only matters up to the first error,
    where the decoder stops anyway. Every step is a C-level pass over the bytes.
    """
    if body.count(b"[") + body.count(b"{") <= limit:  # the usual body: done here
        return False
    if b"\\" in body:
        # Escapes first (``\\`` before ``\"``, left to right, as a JSON reader pairs them),
        # so every remaining quote opens or closes a string.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(body.split(b'"')[0::2])
    if outside_strings.count(b"[") + outside_strings.count(b"{") <= limit:
        return False
    brackets = outside_strings.translate(_ONE_KIND, _NOT_BRACKET)  # only "[" and "]" remain
    if b"[" * (limit + 1) in brackets:
        return True
    for _ in range(4):  # strip the innermost level (each pass one): fewer runs for the count below
        brackets = brackets.replace(b"[]", b"")
        limit -= 1
        if limit < 0:  # there was one more level than the limit allows
            return True
        if not brackets:
            return False
    runs = _RUNS.findall(brackets)
    if runs[0].startswith(b"]"):  # not JSON; count it as it stands
        runs.insert(0, b"")
    opens, closes = map(len, runs[0::2]), map(operator.neg, map(len, runs[1::2]))
    steps = chain.from_iterable(zip_longest(opens, closes, fillvalue=0))
    return max(accumulate(steps)) > limit


def _is_json(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _expects_json(request: Request[Any, Any, Any]) -> bool:
    handler = request.scope.get("route_handler")
    return handler is not None and "data" in handler.parsed_fn_signature.parameters


def _invalid(detail: str, field: str | None = None) -> ClientException:
    """A 400; with ``field``, its problem names that field (``body``: the body itself)."""
    return ClientException(detail=detail, extra=[{"key": field, "message": detail}] if field else None)


async def check_json_request(request: Request[Any, Any, Any]) -> None:
    """``before_request`` for every route: a route with a ``data`` body gets a JSON body
    whose media type, presence and depth are checked, then decoded."""
    if not _expects_json(request):
        return
    content_type = request.headers.get("content-type")
    if content_type is None or not _is_json(content_type):
        given = f"'{content_type}'" if content_type else "none"
        raise HTTPException(
            status_code=415,
            detail=f"This route takes a JSON body: send Content-Type: application/json (got {given}).",
        )
    if not await request.body():
        raise _invalid("The request body is empty; send a JSON object.")
    await request.json()


_DECODED = "dawai.json_body"  # where the decoded body is kept, in the request's ASGI state


class BoundedJsonRequest(Request[Any, Any, Any]):
    """Litestar's request whose ``json()`` refuses too deep or invalid JSON with a 400.

    The decoded body is kept in the ASGI scope's ``state`` (public ASGI, shared by every
    request object Litestar makes for one request), so ``check_json_request`` and the
    handler's body extraction decode it once."""

    __slots__ = ()

    async def json(self) -> Any:
        state = self.scope.setdefault("state", {})
        if _DECODED in state:
            return state[_DECODED]
        body = await self.body()
        if not body:
            raise _invalid("The request body is empty; send a JSON object.")
        if json_depth_exceeds(body):
            raise _invalid(
                f"The request body nests arrays and objects more than {MAX_JSON_DEPTH} deep; "
                "this server accepts at most that.",
                field="body",
            )
        try:
            value = _DECODER.decode(body)
        except msgspec.DecodeError as exc:
            raise _invalid(f"The request body is not valid JSON: {exc}.") from None
        except RecursionError:  # not reachable after the depth check; never a 500 if it is
            raise _invalid(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.") from None
        state[_DECODED] = value
        return value

"""The OpenAPI schema, told truthfully: every problem status an operation can send, event
streams as ``text/event-stream``, and request bodies exactly as they are validated.

Litestar documents a handler's success response and body from its signature. Two things
are declared here, once:

- per route, what its handler can raise: ``problem_responses(400, 401, ...)`` and, for a
  stream, ``event_stream(EventType | ...)`` (passed as the route's ``responses=``);
- for every operation, what the layers around the handlers send, added by ``refine``
  when the schema is served: the wrong ``Host`` (400), a head over 16 KiB (431), a bug
  (500), a missing API token (401, when tokens are configured), a body that does not
  decode or validate (400), is too large (413) or is not JSON (415), the
  ``X-Request-ID`` header on every response, and ``HEAD`` beside every ``GET``.

``refine`` also takes request bodies' schemas from msgspec, the library that validates
them (``additionalProperties: false``, ``maxProperties`` and every length), so the schema
cannot drift from what is enforced. A 404 is listed on operations with a path parameter
(a value its type refuses routes nowhere); on others only when the handler declares it.
A 405 is not listed: it answers a method that has no operation to list it under.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.routes import HTTPRoute

from dawai.adapters.http.context import REQUEST_ID_PATTERN
from dawai.adapters.http.problems import PROBLEM_MEDIA_TYPE, FieldProblem, Problem

__all__ = ["RefinedRender", "ServedSchema", "body_types", "event_stream", "problem_responses", "refine"]

SSE_MEDIA_TYPE = "text/event-stream"
_REF = "#/components/schemas/{name}"

# Why a route's handler answers each status: the sentence its response is described by.
HANDLER_REASONS: dict[int, str] = {
    400: "A field holds a value the server refuses, or the model routes nowhere; `errors` names the field.",
    401: "No usable provider key: send one in `apiKeys` (or `apiKey`), or configure it on the server.",
    404: "No such resource.",
    409: "Not ready for this: a render job still running, failed or cancelled; `detail` says which.",
    413: "The request asks for more than a configured limit allows; `detail` names the setting.",
    429: "The upstream provider is rate limiting; `Retry-After` says when to try again.",
    502: "The upstream provider failed or answered something unusable.",
    503: "Nothing loaded can serve the request (its provider or voice is not loaded), or every slot is busy.",
    504: "The upstream provider did not answer in time.",
}
_HOST = "The `Host` header names a host this server does not serve (`http.allowed_hosts`)."
_HEAD = "The request head (request line and headers) is larger than 16 KiB."
_BUG = "A bug on our side; the detail quotes the request id, and nothing else."
_TOKEN = "API tokens are configured and the request has no valid `Authorization: Bearer` token."
_RATE_LIMITED = (
    "This client (its token, else its address) sent more requests of this route's class than "
    "`rate_limits` allows; `Retry-After` says when to try again."
)
_BUSY = (
    "As many streams or renders as `limits` allows are open, for this client or in all; "
    "`Retry-After` says when to try again."
)
_FORBIDDEN = (
    "The client's address is refused (`http.ip_allow`, `http.ip_deny`), or the route needs an admin "
    "token and the request's token is a user's (with no token configured: the client is not on loopback)."
)
_BODY = "The body is not JSON, is nested too deep, or does not match the schema; `errors` names each field."
_PARAMETER = "A parameter is missing or invalid; `errors` names it."
_PATH_VALUE = "A path parameter names nothing here: a value its type refuses, or no such resource."
_GENERIC = "The request failed; `detail` says why."
_TOO_LARGE = "The body is larger than `http.max_body_bytes`."
_NOT_JSON = "The `Content-Type` is not `application/json`."

_EVENT_STREAM = (
    "Server-Sent Events: one JSON event per `data:` line, described by this schema, then `data: [DONE]`. "
    "`: keep-alive` comments fill silences. A failure before the first byte is a problem document "
    "with its status; after it, an in-band `error` event, then `[DONE]`."
)


def problem_responses(*statuses: int, reasons: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route whose handler can raise these statuses; ``reasons``
    describes a status where the usual sentence (``HANDLER_REASONS``) would not fit."""
    reasons = reasons or {}
    return {status: _problem_spec(reasons.get(status) or HANDLER_REASONS[status]) for status in statuses}


def event_stream(events: Any, description: str = "The reply as Server-Sent Events.") -> ResponseSpec:
    """A streamed 200: ``events`` is the type of one ``data:`` payload (a union of event structs)."""
    return ResponseSpec(
        data_container=events, media_type=SSE_MEDIA_TYPE, description=description, generate_examples=False
    )


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description,
        generate_examples=False,
    )


def body_types(routes: Iterable[Any]) -> dict[tuple[str, str], type]:
    """``(path, method) -> body type`` of every documented operation that takes a JSON body."""
    found: dict[tuple[str, str], type] = {}
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None or handler.include_in_schema is False:
                continue
            for method in handler.http_methods:
                found[(route.path_format or "/", method.lower())] = data.annotation
    return found


def _problem_components() -> dict[str, Any]:
    """``Problem`` as it is written: ``request_id`` always, ``errors`` only when there are
    field errors (never null: the struct omits defaults)."""
    _, components = msgspec.json.schema_components((Problem, FieldProblem), ref_template=_REF)
    problem = components["Problem"]
    problem["properties"]["request_id"] = {
        "type": "string",
        "pattern": REQUEST_ID_PATTERN,
        "description": "Equals the response's `X-Request-ID` header.",
    }
    problem["properties"]["errors"] = {
        "type": "array",
        "items": {"$ref": _REF.format(name="FieldProblem")},
        "description": "Present on validation failures only: one item per field.",
    }
    problem["properties"]["type"]["format"] = "uri"
    problem["properties"]["status"].update(minimum=400, maximum=599)
    problem["required"] = ["type", "title", "status", "detail", "request_id"]
    problem["description"] = "RFC 9457 problem details; every error response is one."
    return components


_HEADERS = {
    "X-Request-ID": {
        "description": "The request's id: the client's own `X-Request-ID` when valid, else a new one.",
        "required": True,
        "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    # Referenced as the Retry-After of a 503: sent when the 503 is a cap's (limits), not otherwise.
    "Retry-After-When-Busy": {
        "description": "Seconds to wait before trying again; sent when every stream or render slot is busy.",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Policy": {
        "description": 'The limit this route\'s class has (IETF httpapi draft): `"chat";q=30;w=60`. '
        "Sent with a 429 from this server's own limits, and on every response the limits let through.",
        "required": False,
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of the limit and when it frees up: `"chat";r=0;t=12`. '
        "Sent with a 429 from this server's own limits.",
        "required": False,
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme the server wants: `Bearer`.",
        "required": True,
        "schema": {"type": "string"},
    },
}


_API_TOKEN = {
    "type": "http",
    "scheme": "bearer",
    "description": "One of the server's API tokens (`DAWAI_API_TOKENS`).",
}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _add_problem(responses: dict[str, Any], status: int, reason: str) -> None:
    key = str(status)
    response = responses.get(key)
    if response is None or PROBLEM_MEDIA_TYPE not in response.get("content", {}):
        # New, or Litestar's own (its ValidationException body is never sent): ours replaces it.
        responses[key] = response = {"description": reason, "content": {}}
    elif reason not in response["description"]:
        response["description"] = f"{response['description']} {reason}"
    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(name="Problem")}}}


def _event_envelope(payload: dict[str, Any]) -> dict[str, Any]:
    """One SSE event as Open API 3.1 describes a ``text/event-stream`` item: its ``data`` is
    JSON matching ``payload``, or the closing ``[DONE]``."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"const": "message"},
            "data": {
                "type": "string",
                "if": {"const": "[DONE]"},
                "else": {"contentMediaType": "application/json", "contentSchema": payload},
            },
        },
        "description": _EVENT_STREAM,
    }


def _refine_operation(
    operation: dict[str, Any],
    *,
    has_body: bool,
    guarded: bool,
    forbidding: bool = False,
    limited: bool = False,
    capped: bool = False,
) -> None:
    responses = operation.setdefault("responses", {})
    token_only_401 = guarded and "401" not in responses
    for key, response in list(responses.items()):
        if key.isdigit() and int(key) > 400:
            # Litestar's own error bodies (`raises=`) are never sent: every error is a problem.
            # (Its 400 is replaced below, by the reasons a 400 really has.)
            _add_problem(responses, int(key), response.get("description") or _GENERIC)
    parameters = operation.get("parameters") or []
    if parameters:
        _add_problem(responses, 400, _PARAMETER)
    if any(p.get("in") == "path" for p in parameters):
        _add_problem(responses, 404, _PATH_VALUE)
    if has_body:
        _add_problem(responses, 400, _BODY)
        _add_problem(responses, 413, _TOO_LARGE)
        _add_problem(responses, 415, _NOT_JSON)
    if guarded:
        _add_problem(responses, 401, _TOKEN)
    if forbidding:
        _add_problem(responses, 403, _FORBIDDEN)
    if limited:
        _add_problem(responses, 429, _RATE_LIMITED)
    if capped:
        _add_problem(responses, 503, _BUSY)
    _add_problem(responses, 400, _HOST)
    _add_problem(responses, 431, _HEAD)
    _add_problem(responses, 500, _BUG)
    for key, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header_ref("X-Request-ID")
        if key == "429":
            headers["Retry-After"] = _header_ref("Retry-After")
            if limited:
                headers["RateLimit-Policy"] = _header_ref("RateLimit-Policy")
                headers["RateLimit"] = _header_ref("RateLimit")
        if key == "503" and capped:
            headers["Retry-After"] = _header_ref("Retry-After-When-Busy")
        if key == "401" and token_only_401:
            headers["WWW-Authenticate"] = _header_ref("WWW-Authenticate")
        stream = response.get("content", {}).get(SSE_MEDIA_TYPE)
        if stream is not None and stream.get("schema", {}).get("type") != "object":
            stream["schema"] = _event_envelope(stream.get("schema", {}))
    operation["responses"] = dict(sorted(responses.items()))
    body = operation.get("requestBody")
    if has_body and body is not None:
        # Only JSON is accepted (415 otherwise), whatever media types Litestar listed.
        body["content"] = {"application/json": body["content"].get("application/json", {})}


def refine(
    source: Mapping[str, Any],
    *,
    bodies: Mapping[tuple[str, str], type],
    guarded: Callable[[str], bool],
    forbidding: Callable[[str], bool] = lambda path: False,
    models: Sequence[str] = (),
    head_as_get: bool = False,
    limited: Callable[[str], bool] = lambda path: False,
    capped: Callable[[str], bool] = lambda path: False,
) -> dict[str, Any]:
    """The served schema: ``source`` (Litestar's) with the truths above added.

    ``bodies`` maps ``(path, method)`` to each JSON body's type; ``guarded(path)`` says
    whether an API token is needed there, ``forbidding(path)`` whether a 403 can come
    (the IP lists, an admin route), ``limited(path)`` whether a rate limit applies (429),
    ``capped(path)`` whether a cap on open streams or renders does (503 with Retry-After);
    ``models`` (the ids ``GET /api/models`` lists) become the examples of every body's
    ``model``; ``head_as_get`` (the server answers ``HEAD`` as ``GET`` without the body)
    adds a ``head`` operation beside every ``get``."""
    schema = copy.deepcopy(dict(source))
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_problem_components())
    if bodies:
        types = sorted(set(bodies.values()), key=lambda t: t.__name__)
        refs, body_components = msgspec.json.schema_components(types, ref_template=_REF)
        schemas.update(body_components)
        for name in body_components:
            model = body_components[name].get("properties", {}).get("model")
            if model is not None and models:
                model["examples"] = list(models)
        ref_of = dict(zip(types, refs, strict=True))
    components.setdefault("headers", {}).update(copy.deepcopy(_HEADERS))
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body_type = bodies.get((path, method))
            if body_type is not None and "requestBody" in operation:
                content = operation["requestBody"].setdefault("content", {})
                content["application/json"] = {"schema": ref_of[body_type]}
                operation["requestBody"]["required"] = True
            _refine_operation(
                operation,
                has_body=body_type is not None,
                guarded=guarded(path),
                forbidding=forbidding(path),
                limited=limited(path),
                capped=capped(path),
            )
            if guarded(path):
                operation["security"] = [{"apiToken": []}]
                components.setdefault("securitySchemes", {})["apiToken"] = _API_TOKEN
        if head_as_get and "get" in item and "head" not in item:
            item["head"] = _head_of(item["get"])
    return schema


def _head_of(get: dict[str, Any]) -> dict[str, Any]:
    """The ``HEAD`` twin of a ``GET`` operation: the same statuses and headers, no body."""
    head = copy.deepcopy(get)
    if "operationId" in head:
        head["operationId"] += "Head"
    head["summary"] = f"{get.get('summary', '')} (headers only)".strip()
    for response in head["responses"].values():
        response.pop("content", None)
    return head


class ServedSchema:
    """``refine`` of Litestar's schema, done on first use and kept (Litestar builds its
    own once too). ``bodies`` is called then, when every route is registered."""

    def __init__(
        self,
        bodies: Callable[[], Mapping[tuple[str, str], type]],
        guarded: Callable[[str], bool],
        forbidding: Callable[[str], bool] = lambda path: False,
        models: Callable[[], Sequence[str]] = tuple,
        *,
        head_as_get: bool = False,
        limited: Callable[[str], bool] = lambda path: False,
        capped: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self._bodies, self._guarded, self._models = bodies, guarded, models
        self._forbidding, self._limited, self._capped = forbidding, limited, capped
        self._head_as_get = head_as_get
        self._source: Mapping[str, Any] | None = None
        self._refined: dict[str, Any] = {}

    def __call__(self, source: Mapping[str, Any]) -> dict[str, Any]:
        if self._source is not source:
            self._refined = refine(
                source,
                bodies=self._bodies(),
                guarded=self._guarded,
                forbidding=self._forbidding,
                models=self._models(),
                head_as_get=self._head_as_get,
                limited=self._limited,
                capped=self._capped,
            )
            self._source = source
        return self._refined


class RefinedRender(OpenAPIRenderPlugin):
    """Any render plugin, handed the served schema instead of Litestar's, so the JSON, the
    Scalar and the Swagger pages all show the same."""

    def __init__(self, inner: OpenAPIRenderPlugin, served: ServedSchema) -> None:
        super().__init__(
            path=inner.paths, media_type=inner.media_type, favicon=inner.favicon, style=inner.style
        )
        self.inner, self.served = inner, served

    def render(self, request: Any, openapi_schema: dict[str, Any]) -> bytes:
        return self.inner.render(request, self.served(openapi_schema))

    def receive_router(self, router: Any) -> None:
        self.inner.receive_router(router)

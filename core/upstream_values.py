"""Client values that become part of an upstream request, checked where they enter the core.

An API key becomes a header value and a model name becomes part of a JSON body or, for
some providers, of the URL path. Both are checked before any connection is opened, so a
key holding CR/LF can never write headers or whole requests of its own onto the
upstream connection, and a model name can never reach another endpoint with the server's
key (``..``, ``%2e``, ``?``, ``#`` and ``\\`` are outside the character set). A refused
value is an ``InvalidInput`` naming the field; its detail never repeats the value.

The patterns are public (whole-string matches, as ``re.fullmatch``: ``$`` would let a
trailing line feed through) so the HTTP adapter can document them in its schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dawai.core.errors import FieldError, InvalidInput

__all__ = [
    "API_KEY_MAX_LENGTH",
    "API_KEY_PATTERN",
    "MODEL_MAX_LENGTH",
    "MODEL_PATTERN",
    "PROVIDER_NAME_PATTERN",
    "check_api_key",
    "check_credentials",
    "check_model",
]

API_KEY_MAX_LENGTH = 512
MODEL_MAX_LENGTH = 200
# Visible ASCII: what every provider's keys are made of, and all an HTTP header value
# may safely carry (no space, tab, CR, LF, NUL or other control character, no non-ASCII).
API_KEY_PATTERN = r"[\x21-\x7e]+"
# Segments of letters, digits and ``. _ : @ + = -``, each starting with a letter or digit
# (so ``.`` and ``..`` are never a segment), joined by single ``/``: enough for every
# provider's ids (``claude-sonnet-4-5``, ``llama3:8b``, ``meta-llama/Llama-3.1-8B``) and
# the fake's directives, and nothing a URL gives a meaning to.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._:@+=\-]*"
MODEL_PATTERN = rf"{_SEGMENT}(?:/{_SEGMENT})*"

# The names ``apiKeys`` is keyed by: a provider's name, as plugins register them.
PROVIDER_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"

_API_KEY = re.compile(API_KEY_PATTERN)
_PROVIDER_NAME = re.compile(PROVIDER_NAME_PATTERN)
_MODEL = re.compile(MODEL_PATTERN)


def check_api_key(field: str, key: str) -> None:
    """Refuse a key that is not 1 to 512 visible ASCII characters."""
    if not (0 < len(key) <= API_KEY_MAX_LENGTH and _API_KEY.fullmatch(key)):
        message = (
            f"an API key is 1 to {API_KEY_MAX_LENGTH} visible ASCII characters: "
            "no spaces, line breaks, control or non-ASCII characters"
        )
        raise InvalidInput(f"{field}: {message}.", [FieldError(field, message)])


def check_credentials(api_keys: Mapping[str, str], api_key: str | None) -> None:
    """Every key a request brings (``apiKeys.<provider>`` and ``apiKey``), checked. An
    empty one is no key (the contract's ``apiKey: str = ""``): the server's is used."""
    for provider, key in api_keys.items():
        if not _PROVIDER_NAME.fullmatch(provider):
            message = "keys are provider names: letters, digits and . _ -, at most 64 characters"
            raise InvalidInput(f"apiKeys: {message}.", [FieldError("apiKeys", message)])
        if key:
            check_api_key(f"apiKeys.{provider}", key)
    if api_key:
        check_api_key("apiKey", api_key)


def check_model(field: str, model: str) -> None:
    """Refuse a model name outside ``MODEL_PATTERN`` or longer than 200 characters."""
    if not (0 < len(model) <= MODEL_MAX_LENGTH and _MODEL.fullmatch(model)):
        message = (
            "a model name is letters, digits and . _ : @ + = - in segments separated by single /, "
            f"each starting with a letter or digit, at most {MODEL_MAX_LENGTH} characters"
        )
        raise InvalidInput(f"{field}: {message}.", [FieldError(field, message)])

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dawai.bootstrap.logging import redact_event
from dawai.core.redaction import redact

KEYS = ["sk-ant-api03-" + "a" * 40, "sk-proj-" + "B" * 40, "AIza" + "c" * 35, "Bearer abcdefghijklmnop"]


@given(st.text(max_size=50), st.sampled_from(KEYS), st.text(max_size=50))
def test_key_shapes_never_survive(before, key, after):
    assert key not in redact(before + " " + key + " " + after)


def test_known_secret_is_removed_whatever_its_shape():
    assert "hunter2-secret" not in redact("failed with hunter2-secret", ["hunter2-secret"])


def test_log_events_mask_secret_fields_and_values():
    event = redact_event(None, "info", {"api_key": "x", "apiKeys": {"a": "b"}, "msg": "key " + KEYS[0]})
    assert event["api_key"] == "***" and event["apiKeys"] == "***"
    assert KEYS[0] not in event["msg"]

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from dawai.core.models import ChatMessage, PromptInput
from dawai.core.prompting import MusicExpertStrategy, detect_language, render_context

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
contexts = (
    st.dictionaries(st.sampled_from(["project", "currentTrack", "tracks", "other"]), json_values, max_size=4)
    | st.text(max_size=200)
    | st.none()
)


@given(contexts)
def test_render_context_accepts_any_json_shape(context):
    text = render_context(context)
    assert isinstance(text, str)


@given(
    st.text(min_size=1, max_size=200),
    contexts,
    st.lists(st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=50)), max_size=10),
)
def test_rendered_messages_alternate_and_end_with_the_user(message, context, history):
    prompt = MusicExpertStrategy().render(
        PromptInput(message, context, tuple(ChatMessage(r, c) for r, c in history))
    )
    roles = [m.role for m in prompt.messages]
    assert roles[0] == "user" and roles[-1] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles))
    assert prompt.messages[-1].content.endswith(message)


def test_context_is_compact_and_complete():
    context = {
        "project": {
            "name": "Song",
            "tempo": 128,
            "key": "A minor",
            "timeSignature": "4/4",
            "currentTime": 12.5,
            "totalDuration": 180,
            "isPlaying": True,
            "tracksCount": 3,
        },
        "currentTrack": {"id": "t1", "name": "Bass", "type": "midi", "notesCount": 40, "volume": 80},
        "tracks": [{"id": "t1", "name": "Bass", "type": "midi", "notes": [{}, {}]}],
        "unknown": {"ignored": True},
    }
    text = render_context(context)
    for needle in (
        "Song",
        "128 BPM",
        "A minor",
        "4/4",
        "12.5s/180s",
        "playing",
        "Bass",
        "notes=40",
        "80%",
        "(2 notes)",
    ):
        assert needle in text
    assert "ignored" not in text
    assert len(text.splitlines()) == 3


def test_language_follows_the_user():
    assert detect_language("このコード進行をどう思う？") == "ja"
    assert detect_language("How do I sidechain?") == "en"
    prompt = MusicExpertStrategy().render(PromptInput("ベースを太くしたい"))
    assert "Japanese" in prompt.system

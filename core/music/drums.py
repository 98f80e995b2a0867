"""The General MIDI Level 1 percussion key map (notes 35-81 on channel 10).

``GM_DRUMS`` maps each note number to its name in the GM specification; ``drum_note`` also
reads the names drummers and producers use (``kick``, ``snare``, ``hat``, ``open hat``,
``crash``, ``ride``, ``rim``, ``clap``, ``high tom``, ``floor tom``) in English and Japanese
(``キック``, ``スネア``, ``ハイハット``, ...).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from dawai.core.music.errors import MusicParseError

__all__ = ["GM_DRUMS", "GM_DRUM_CHANNEL", "drum_name", "drum_note"]

GM_DRUM_CHANNEL: Final = 9  # zero-based: the channel musicians call 10

GM_DRUMS: Final[dict[int, str]] = {
    35: "Acoustic Bass Drum",
    36: "Bass Drum 1",
    37: "Side Stick",
    38: "Acoustic Snare",
    39: "Hand Clap",
    40: "Electric Snare",
    41: "Low Floor Tom",
    42: "Closed Hi-Hat",
    43: "High Floor Tom",
    44: "Pedal Hi-Hat",
    45: "Low Tom",
    46: "Open Hi-Hat",
    47: "Low-Mid Tom",
    48: "Hi-Mid Tom",
    49: "Crash Cymbal 1",
    50: "High Tom",
    51: "Ride Cymbal 1",
    52: "Chinese Cymbal",
    53: "Ride Bell",
    54: "Tambourine",
    55: "Splash Cymbal",
    56: "Cowbell",
    57: "Crash Cymbal 2",
    58: "Vibraslap",
    59: "Ride Cymbal 2",
    60: "Hi Bongo",
    61: "Low Bongo",
    62: "Mute Hi Conga",
    63: "Open Hi Conga",
    64: "Low Conga",
    65: "High Timbale",
    66: "Low Timbale",
    67: "High Agogo",
    68: "Low Agogo",
    69: "Cabasa",
    70: "Maracas",
    71: "Short Whistle",
    72: "Long Whistle",
    73: "Short Guiro",
    74: "Long Guiro",
    75: "Claves",
    76: "Hi Wood Block",
    77: "Low Wood Block",
    78: "Mute Cuica",
    79: "Open Cuica",
    80: "Mute Triangle",
    81: "Open Triangle",
}

_COMMON_NAMES: Final[dict[str, int]] = {
    **dict.fromkeys(("kick", "bass drum", "kick drum", "bd", "キック", "バスドラム", "バスドラ"), 36),
    **dict.fromkeys(("snare", "snare drum", "sd", "スネア", "スネアドラム"), 38),
    **dict.fromkeys(("rim", "rimshot", "side stick", "cross stick", "リム", "サイドスティック"), 37),
    **dict.fromkeys(("clap", "handclap", "クラップ", "ハンドクラップ"), 39),
    **dict.fromkeys(("hat", "hihat", "closed hat", "closed hihat", "ch", "ハイハット"), 42),
    **dict.fromkeys(("クローズハイハット", "クローズドハイハット"), 42),
    **dict.fromkeys(("open hat", "open hihat", "oh", "オープンハイハット"), 46),
    **dict.fromkeys(("pedal hat", "pedal hihat", "ペダルハイハット"), 44),
    **dict.fromkeys(("crash", "crash cymbal", "クラッシュ", "クラッシュシンバル"), 49),
    **dict.fromkeys(("ride", "ride cymbal", "ライド", "ライドシンバル"), 51),
    **dict.fromkeys(("splash", "スプラッシュ"), 55),
    **dict.fromkeys(("china", "チャイナ"), 52),
    **dict.fromkeys(("high tom", "hi tom", "tom 1", "ハイタム"), 50),
    **dict.fromkeys(("mid tom", "tom 2", "ミッドタム"), 47),
    **dict.fromkeys(("floor tom", "tom 3", "フロアタム"), 43),
    **dict.fromkeys(("tom", "タム", "ロータム"), 45),
    **dict.fromkeys(("shaker", "シェイカー", "マラカス"), 70),
    **dict.fromkeys(("tambourine", "タンバリン"), 54),
    **dict.fromkeys(("cowbell", "カウベル"), 56),
}


_HINT: Final = "use a General MIDI drum name, like 'kick', 'snare' or 'closed hi-hat'"


def _fold(text: str) -> str:
    spaced = re.sub(r"[\s\-_]+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()
    return spaced.replace("hi hat", "hihat")


_BY_NAME: Final = {
    **{_fold(name): note for note, name in GM_DRUMS.items()},
    **{_fold(name): note for name, note in _COMMON_NAMES.items()},
}


def drum_note(name: str) -> int:
    """The GM note of a drum: ``drum_note("kick")`` is 36, ``drum_note("Open Hi-Hat")`` 46."""
    note = _BY_NAME.get(_fold(name))
    if note is None:
        raise MusicParseError("drum", name, _HINT)
    return note


def drum_name(note: int) -> str:
    """The GM name of a percussion note, 35-81; a ValueError outside the map."""
    try:
        return GM_DRUMS[note]
    except KeyError:
        raise ValueError(f"MIDI note {note} is not in the GM percussion map (35-81)") from None

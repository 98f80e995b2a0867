"""Music theory for every generator, validator and analyser: pure functions, no I/O.

Pitches and intervals (``pitch``), scales and modes (``scales``), keys (``keys``), chord
symbols (``chords``), Roman numerals (``roman``), named progressions (``progressions``), the
General MIDI drum map (``drums``), voice leading (``voicing``), key estimation
(``key_estimation``), time signatures and the bar grid (``meter``) and chord naming from
notes (``analysis``). Text a musician wrote that cannot be read raises ``MusicParseError``
(an ``InvalidInput``: a 400 problem document), naming the text.
"""

from dawai.core.music.analysis import (
    CHORD_VOCABULARY,
    BarChord,
    NoteAnalysis,
    analyse_notes,
    bar_chords,
    name_chord,
)
from dawai.core.music.chords import CHORD_KINDS, Chord, parse_chord
from dawai.core.music.drums import GM_DRUM_CHANNEL, GM_DRUMS, drum_name, drum_note
from dawai.core.music.errors import MusicParseError
from dawai.core.music.key_estimation import (
    DEFAULT_PROFILE,
    KEY_PROFILES,
    KeyEstimate,
    KeyProfile,
    NoteLike,
    estimate_key,
    key_scores,
    pitch_class_histogram,
)
from dawai.core.music.keys import Key, all_keys, parse_key
from dawai.core.music.meter import BarGrid, TimeSignature, parse_time_signature
from dawai.core.music.pitch import (
    Interval,
    SpelledPitch,
    midi_name,
    parse_midi_name,
    parse_pitch,
    pitch_class,
)
from dawai.core.music.progressions import (
    PROGRESSIONS,
    Progression,
    find_progression,
    parse_progression,
    progressions_for,
)
from dawai.core.music.roman import RomanNumeral, diatonic_chords, parse_roman, roman_for
from dawai.core.music.scales import MODES, Mode, Scale, ScaleType
from dawai.core.music.voicing import chord_tones_for_voices, voice_lead

__all__ = [
    "CHORD_KINDS",
    "CHORD_VOCABULARY",
    "DEFAULT_PROFILE",
    "GM_DRUMS",
    "GM_DRUM_CHANNEL",
    "KEY_PROFILES",
    "MODES",
    "PROGRESSIONS",
    "BarChord",
    "BarGrid",
    "Chord",
    "Interval",
    "Key",
    "KeyEstimate",
    "KeyProfile",
    "Mode",
    "MusicParseError",
    "NoteAnalysis",
    "NoteLike",
    "Progression",
    "RomanNumeral",
    "Scale",
    "ScaleType",
    "SpelledPitch",
    "TimeSignature",
    "all_keys",
    "analyse_notes",
    "bar_chords",
    "chord_tones_for_voices",
    "diatonic_chords",
    "drum_name",
    "drum_note",
    "estimate_key",
    "find_progression",
    "key_scores",
    "midi_name",
    "name_chord",
    "parse_chord",
    "parse_key",
    "parse_midi_name",
    "parse_pitch",
    "parse_progression",
    "parse_roman",
    "parse_time_signature",
    "pitch_class",
    "pitch_class_histogram",
    "progressions_for",
    "roman_for",
    "voice_lead",
]

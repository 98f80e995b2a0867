"""The words the offline agent reads, in English and Japanese, and the patterns built from them.

Every pattern runs over ``fold``ed text (NFKC, so full-width digits and letters are ASCII,
then casefolded). English words match on word boundaries; Japanese ones anywhere. Tables
list the longest phrases first where one contains another (``bass drum`` before ``bass``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ADD_STRONG",
    "ADD_WEAK",
    "DELETE",
    "EFFECT_WORDS",
    "INSTRUMENTS",
    "Instrument",
    "fold",
    "is_japanese",
    "words",
]


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_JAPANESE_RE: Final = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def is_japanese(text: str) -> bool:
    """Whether the text is written in Japanese (holds kana or kanji)."""
    return _JAPANESE_RE.search(text) is not None


def words(*phrases: str) -> re.Pattern[str]:
    """A pattern for any of ``phrases`` (space-separated alternatives in each string; ``_``
    stands for a space inside one phrase), longest first, English ones on word boundaries."""
    found = sorted({p.replace("_", " ") for group in phrases for p in group.split()}, key=len, reverse=True)
    parts = [rf"(?<![a-z0-9]){re.escape(p)}(?![a-z])" if p.isascii() else re.escape(p) for p in found]
    return re.compile("|".join(parts))


@dataclass(frozen=True, slots=True)
class Instrument:
    """A kind of track a musician names: its track type, instrument, default names, and the
    words that name it (also used to find an existing track of the kind by its name)."""

    key: str
    track_type: str
    instrument: str | None
    name_en: str
    name_ja: str
    pattern: re.Pattern[str]


def _instrument(
    key: str, track_type: str, instrument: str | None, en: str, ja: str, spoken: str
) -> Instrument:
    return Instrument(key, track_type, instrument, en, ja, words(spoken))


# Order matters: the first kind whose words appear (earliest in the text) wins, and longer
# phrases ("bass drum", "electric piano") sit in kinds checked by position, not by order.
INSTRUMENTS: Final[tuple[Instrument, ...]] = (
    _instrument(
        "drums",
        "drums",
        None,
        "Drums",
        "ドラム",
        "drums drum drum_kit drum_track percussion beat beats groove kick snare hi-hat hihat bass_drum "
        "ドラム リズム パーカッション ビート キック スネア",
    ),
    _instrument(
        "vocals",
        "voice",
        None,
        "Vocals",
        "ボーカル",
        "vocals vocal voice vox singer singing ボーカル ボイス 歌声 歌",
    ),
    _instrument("audio", "audio", None, "Audio", "オーディオ", "audio recording オーディオ 録音"),
    _instrument(
        "bass",
        "midi",
        "bass",
        "Bass",
        "ベース",
        "bass bassline bass_line sub_bass ベースライン ベース",
    ),
    _instrument(
        "epiano", "midi", "electric piano", "Electric Piano", "エレピ", "electric_piano e-piano rhodes エレピ"
    ),
    _instrument("piano", "midi", "piano", "Piano", "ピアノ", "piano keys keyboard ピアノ キーボード 鍵盤"),
    _instrument("guitar", "midi", "guitar", "Guitar", "ギター", "guitar guitars ギター"),
    _instrument(
        "strings",
        "midi",
        "strings",
        "Strings",
        "ストリングス",
        "strings violin cello ストリングス 弦楽器 バイオリン",
    ),
    _instrument("pad", "midi", "pad", "Pad", "パッド", "pad pads パッド"),
    _instrument("organ", "midi", "organ", "Organ", "オルガン", "organ オルガン"),
    _instrument("brass", "midi", "brass", "Brass", "ブラス", "brass trumpet horns ブラス トランペット"),
    _instrument("sax", "midi", "saxophone", "Sax", "サックス", "sax saxophone サックス"),
    _instrument("flute", "midi", "flute", "Flute", "フルート", "flute フルート"),
    _instrument(
        "synth", "midi", "synth", "Synth", "シンセ", "synth synthesizer synths シンセサイザー シンセ"
    ),
    _instrument("lead", "midi", "lead synth", "Lead", "リード", "lead リード"),
    _instrument("chords", "midi", "piano", "Chords", "コード", "chords chord コード"),
    _instrument("melody", "midi", "lead synth", "Melody", "メロディ", "melody メロディー メロディ"),
    _instrument("harmony", "midi", "pad", "Harmony", "ハーモニー", "harmony ハーモニー ハモリ"),
)

ADD_STRONG: Final = words(
    "add adding generate write compose insert create append put_in give_me "
    "追加 生成 作成 作って 作る 作り 書いて 入れて 足して 加えて 付けて つけて 欲しい ほしい"
)
ADD_WEAK: Final = words("make new need want")
DELETE: Final = words("delete remove get_rid_of erase 削除 消して 消す 除去 取り除 外して")
CLEAR_NOTES: Final = words("clear empty notes all_notes クリア 空に ノート 音符")

EFFECT_WORDS: Final[dict[str, re.Pattern[str]]] = {
    "reverb": words("reverb reverberation リバーブ 残響"),
    "delay": words("delay echo ディレイ エコー やまびこ"),
    "eq": words("eq equalizer equaliser equalisation equalization イコライザー イコライザ"),
    "compressor": words("compressor compression compress comp コンプレッサー コンプ 圧縮"),
    "chorus": words("chorus コーラス"),
    "distortion": words(
        "distortion distort overdrive fuzz ディストーション オーバードライブ ファズ 歪み 歪ませ"
    ),
}
EQ_UPPER: Final = re.compile(r"(?<![a-z])eq(?![a-z])")

MUTE: Final = words("mute silence ミュート 消音")
UNMUTE: Final = words("unmute un-mute ミュート解除 ミュートを解除 ミュートをオフ ミュートを外 ミュートオフ")
SOLO: Final = words("solo ソロ")
UNSOLO: Final = words("unsolo un-solo ソロ解除 ソロを解除 ソロをオフ ソロを外 ソロオフ")
VOLUME: Final = words("volume level gain fader 音量 ボリューム レベル")
PAN: Final = words("pan panning panned パン 定位")
LEFT: Final = words("left 左")
RIGHT: Final = words("right 右")
CENTRE: Final = words("center centre middle 中央 真ん中 センター")

TRANSPOSE: Final = words(
    "transpose transposed shift pitch octave octaves semitone semitones half_step half_steps "
    "whole_step whole_steps half_tone halftone 移調 半音 全音 オクターブ トランスポーズ"
)
UP: Final = words("up higher raise 上げ 上に 高く")
DOWN: Final = words("down lower 下げ 下に 低く")
QUANTISE: Final = words("quantize quantise quantized quantised snap クオンタイズ クォンタイズ")
STRETCH_SLOWER: Final = words(
    "half_time half-time half_speed half-speed twice_as_long double_the_length double_length "
    "stretch slow_down slower 2倍の長さ 倍の長さ 半分の速さ 引き伸ば 伸ばして ゆっくり"
)
STRETCH_FASTER: Final = words(
    "double_time double-time double_speed double-speed twice_as_fast halve half_the_length "
    "compress_time faster speed_up 倍速 2倍速 半分の長さ 半分に 縮めて 速く"
)
STRETCH_DOUBLE: Final = words("double 倍に 2倍")
RENAME: Final = words("rename 名前を 名前変更 改名")

TEMPO: Final = words("tempo bpm speed テンポ 速さ")
KEY: Final = re.compile(r"(?<![a-z])key(?![a-z])|キー(?!ボード)|調(?!整|子|べ)")
SIGNATURE: Final = words("time_signature meter metre signature 拍子")

CURRENT: Final = words(
    "current_track this_track selected_track the_selected_one current selected "
    "現在のトラック 今のトラック このトラック 選択中のトラック 選択したトラック 選択中"
)
PRONOUN: Final = words("it them それ これ そのトラック")
TRACK_WORD: Final = words("track tracks トラック")

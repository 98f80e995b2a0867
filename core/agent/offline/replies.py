"""What the offline agent says, in English and Japanese: each step's summary, what to try
next, and what it could not do (with a provider model to ask instead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["PROVIDER_MODEL", "Words", "capabilities", "not_understood"]

# The model a request the offline agent cannot read is pointed to (the default alias).
PROVIDER_MODEL: Final = "claude-3-sonnet"


@dataclass(frozen=True, slots=True)
class Words:
    """One thing said, in both languages."""

    en: str
    ja: str

    def in_(self, japanese: bool) -> str:
        return self.ja if japanese else self.en


def capabilities() -> Words:
    return Words(
        "It understands: tempo, key and time signature; adding a track or a generated part "
        "(drums, bassline, chords, melody, harmony); transposing, quantising, doubling or halving "
        "a track's notes; volume, pan, mute and solo; deleting a track; reverb, delay, EQ, "
        "compressor, chorus and distortion.",
        "使えるのは、テンポ・キー・拍子の変更、トラックや自動生成パート（ドラム、ベース、コード、メロディ、"
        "ハーモニー）の追加、ノートの移調・クオンタイズ・倍／半分の長さ、音量・パン・ミュート・ソロ、"
        "トラックの削除、リバーブ・ディレイ・EQ・コンプ・コーラス・ディストーションです。",
    )


def not_understood(command: str) -> Words:
    shown = command if len(command) <= 80 else command[:77] + "..."
    return Words(
        f"The offline agent (model 'local') did not understand \"{shown}\".",
        f"オフラインエージェント（model 'local'）は「{shown}」を理解できませんでした。",
    )


def too_long(command: str, limit: int) -> Words:
    shown = command[:37] + "..."
    return Words(
        f"The offline agent (model 'local') reads commands of up to {limit} characters; "
        f'"{shown}" is longer.',
        f"オフラインエージェント（model 'local'）が読めるのは{limit}文字までの指示です。"
        f"「{shown}」は長すぎます。",
    )


def too_many(unread: int, limit: int) -> Words:
    return Words(
        f"The offline agent reads {limit} commands a prompt (one per track for 'all tracks'); "
        f"{unread} more were not read.",
        f"オフラインエージェントが1回に読む指示は{limit}個まで（「全トラック」はトラックごとに1個）です。"
        f"残りの{unread}個は読んでいません。",
    )


def full_plan(limit: int) -> Words:
    return Words(
        f"The plan reached its limit of {limit} actions; the commands after that were not read.",
        f"プランが上限の{limit}アクションに達したため、それ以降の指示は読んでいません。",
    )


def provider_hint() -> Words:
    return Words(
        f"For requests like this, use a provider model such as {PROVIDER_MODEL}, gpt-4 or gemini-2.5-pro "
        "(it needs an API key).",
        f"このような依頼には {PROVIDER_MODEL}、gpt-4、gemini-2.5-pro などのプロバイダーモデルを使ってください"
        "（APIキーが必要です）。",
    )


NEXT_STEPS: Final[dict[str, Words]] = {
    "drum_pattern": Words(
        'Add a bassline next ("add a 4-bar bassline"): parts written with the same seed share '
        "one progression.",
        "次はベースを追加してみましょう（「ベースを4小節追加して」）。同じシードのパートは同じコード進行で揃います。",
    ),
    "bassline": Words(
        'Add chords over it ("add a chord progression") or a melody; they follow the same chords.',
        "コード（「コード進行を追加して」）やメロディを重ねると、同じコード進行に沿います。",
    ),
    "chord_progression": Words(
        'Add a melody ("add an 8-bar melody") or a bassline that follows these chords.',
        "このコードに合うメロディ（「メロディを8小節追加して」）やベースを追加できます。",
    ),
    "melody": Words(
        'Add a harmony pad under it, or transpose it ("transpose the melody up an octave").',
        "ハーモニーを重ねたり、移調したり（「メロディを1オクターブ上げて」）できます。",
    ),
    "harmony": Words(
        'Try reverb on it ("add reverb to the harmony") or lower its volume to sit behind the melody.',
        "リバーブをかけたり（「ハーモニーにリバーブをかけて」）、音量を下げてメロディの後ろに置けます。",
    ),
    "edit": Words(
        "Play it back; ask again to transpose, quantise or change volume and pan.",
        "再生して確認してください。続けて移調・クオンタイズ・音量やパンの調整もできます。",
    ),
    "project": Words(
        'Generated parts now follow the new settings: try "add drums" or "add a bassline".',
        "新しい設定で生成できます。「ドラムを追加して」「ベースを追加して」などを試してください。",
    ),
    "track": Words(
        'Fill it with a part ("add 4 bars of chords to it") or add an effect.',
        "パートを入れたり（「それにコードを4小節追加して」）、エフェクトをかけたりできます。",
    ),
}

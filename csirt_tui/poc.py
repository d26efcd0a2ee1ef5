"""The PoC card (むつ 別表第1): the desk's one window for reports, whole — who (the organisation
and its section), where, when, the numbers, the mail and the four items asked — from the profile,
each organisation its own. Core only: the card screen, the out-of-hours banner and the CLI
(``csirt-desk poc``) show these lines."""

from __future__ import annotations

NOT_SET = "（プロファイルに記載がありません）"


def poc_card(profile) -> list[tuple[str, str]]:
    """(label, value) lines of the profile's PoC card, in 別表第1's order. A value the profile
    leaves empty is said to be missing (the seeds of some organisations give none)."""
    poc = profile.poc
    org = (poc.get("organisation") or profile.name).strip()
    section = (poc.get("section") or "").strip()
    phone = (poc.get("phone") or "").strip()
    ext = (poc.get("extension") or "").strip()
    number = " ".join(x for x in (phone, f"内線{ext}" if ext else "") if x)
    items = " ".join(i["label"] for i in poc.get("items", []))
    extra = " ".join(i["label"] for i in poc.get("extra_items", []))
    return [
        ("PoC", f"{org}（{section}）" if section else org),
        ("所在地", (poc.get("address") or "").strip() or NOT_SET),
        ("対応時間", (poc.get("hours_label") or "").strip() or NOT_SET),
        ("電話番号", number or NOT_SET),
        ("メール", (poc.get("mail") or "").strip() or NOT_SET),
        ("確認項目", items + (f" {extra}" if extra else "")),
        ("出典", poc.get("source") or ""),
    ]


def poc_card_text(profile) -> str:
    return "\n".join(f"{label}: {value}" for label, value in poc_card(profile))

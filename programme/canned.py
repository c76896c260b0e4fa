"""Ready replies a caseworker can send in the console, written in each beneficiary language.

They are sent in the beneficiary's language, not the caseworker's, so they are not console msgids:
each reply holds its own texts. A language without a text gets the English one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from programme.text import N_

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: str
    label: str  # msgid: what the caseworker picks from, in the console's language
    texts: Mapping[str, str]  # language → the text the beneficiary reads

    def text_for(self, language: str | None) -> str:
        return self.texts.get(language or FALLBACK_LANGUAGE) or self.texts[FALLBACK_LANGUAGE]


CANNED_REPLIES: tuple[CannedReply, ...] = (
    CannedReply(
        "received",
        N_("We have your message and will answer soon"),
        {
            "en": "Thank you, we have your message. A caseworker will answer you soon.",
            "az": "Təşəkkür edirik, mesajınızı aldıq. Sosial işçi tezliklə sizə cavab verəcək.",
            "ru": "Спасибо, мы получили ваше сообщение. Социальный работник скоро вам ответит.",
        },
    ),
    CannedReply(
        "call_you",
        N_("We will call you"),
        {
            "en": "A caseworker will call you. Please keep your phone near you.",
            "az": "Sosial işçi sizə zəng edəcək. Zəhmət olmasa, telefonunuzu yanınızda saxlayın.",
            "ru": "Социальный работник вам позвонит. Пожалуйста, держите телефон рядом.",
        },
    ),
    CannedReply(
        "bring_documents",
        N_("Bring your documents to the meeting"),
        {
            "en": "Please bring your passport and any residence documents to the meeting.",
            "az": "Zəhmət olmasa, görüşə pasportunuzu və yaşayış sənədlərinizi gətirin.",
            "ru": "Пожалуйста, возьмите на встречу паспорт и документы о проживании.",
        },
    ),
    CannedReply(
        "office_hours",
        N_("Office hours"),
        {
            "en": "Our office is open Monday to Friday, 09:00 to 18:00.",
            "az": "Ofisimiz bazar ertəsindən cüməyə qədər, saat 09:00-dan 18:00-a qədər açıqdır.",
            "ru": "Наш офис открыт с понедельника по пятницу, с 09:00 до 18:00.",
        },
    ),
)

CANNED: Mapping[str, CannedReply] = {reply.id: reply for reply in CANNED_REPLIES}

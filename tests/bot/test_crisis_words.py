"""Crisis words in every language: what a person in danger would type, in the script and in Latin
letters, takes the urgent path; an ordinary request for help does not."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.urgent import CRISIS_WORDS, mentions_crisis
from sandbox.client import SandboxClient
from storage.models_journey import Alert
from tests.bot.test_journey import screened, tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate

IN_DANGER: dict[str, tuple[str, ...]] = {
    "en": ("I am in danger", "my husband hits me", "they threaten to kill me", "I'm not safe here"),
    "ru": (
        "Помогите, я в опасности",
        "муж меня бьёт",
        "Муж меня бьет каждый день",
        "он меня избивает",
        "хозяин угрожает мне",
        "у меня отобрали паспорт",
        "паспорт забрали и заставляют работать",
        "не хочу жить",
        "ya v opasnosti",
    ),
    "az": (
        "Kömək edin, mən təhlükədəyəm",
        "ərim məni döyür",
        "məni öldürəcək",
        "həyatım təhlükədədir",
        "işəgötürən pasportumu aldı",
        "məni hədələyirlər",
        "ailədə zorakılıq var",
        "men tehlukedeyem",
        "erim meni doyur",
        "pasportumu aldilar",
    ),
    "tr": (
        "Yardım edin, tehlikedeyim",
        "kocam beni dövüyor",
        "beni öldürecek",
        "patron pasaportumu aldı",
        "beni tehdit ediyorlar",
        "kocam beni dovuyor",
        "hayatim tehlikede",
        "olmek istiyorum",
    ),
    "fa": (
        "شوهرم مرا لت می‌کند",
        "شوهرم مرا لت میکند",
        "مره لت میکنه",
        "من در خطر استم",
        "جانم در خطر است",
        "مرا تهدید می‌کنند که می‌کشند",
        "صاحب کارم پاسپورتم را گرفته",
        "تذکره‌ام را گرفتند",
        "می‌خواهم خود را بکشم",
        "منو میزنه",
        "مرا می\u200cزند",
        "شوهرم مرا مي‌زند",
        "mara lat mekona",
        "man dar khatar astam",
    ),
    "ps": (
        "زه په خطر کې یم",
        "مېړه مې ما وهي",
        "ما ګواښي چې وبه مې وژني",
        "ما به ووژني",
        "کارفرما پاسپورټ مې واخیست",
        "زه غواړم مړ شم",
        "za pa khatar ke yam",
    ),
    "ur": (
        "مجھے مدد چاہیے، میں خطرے میں ہوں",
        "مجهے مدد چاہیے، میں خطرے میں ہوں",
        "میرا شوہر مجھے مارتا ہے",
        "وہ مجھے جان سے مارنے کی دھمکی دیتا ہے",
        "مالک نے میرا پاسپورٹ لے لیا",
        "میں مرنا چاہتی ہوں",
        "mujhe madad chahiye, main khatre mein hoon",
        "mera shohar mujhe maarta hai",
        "malik ne passport cheen liya",
    ),
}

ORDINARY: dict[str, tuple[str, ...]] = {
    "en": ("I need help with my documents", "When is my appointment?", "Thank you for your help"),
    "ru": (
        "Мне нужна помощь с документами",
        "Когда моя встреча?",
        "Помогите, пожалуйста, записаться на приём",
        "Я забрал документы из офиса",
    ),
    "az": (
        "Sənədlərimlə bağlı köməyə ehtiyacım var",
        "Görüşüm nə vaxtdır?",
        "Qonşu qapını döyür",
        "Senedlerimle bagli komek lazimdir",
    ),
    "tr": ("Belgelerim için yardıma ihtiyacım var", "Randevum ne zaman?", "Kapıyı biri çalıyor"),
    "fa": (
        "برای اسنادم کمک لازم دارم",
        "ملاقات من چه وقت است؟",
        "الهی بمیرم برایت",
        "در خانه هستم",
        "man baraye asnad komak mekhayom",
    ),
    "ps": ("زه د خپلو اسنادو لپاره مرستې ته اړتیا لرم", "زما ملاقات کله دی؟", "تېره اوونۍ راغلم"),
    "ur": (
        "مجھے اپنے کاغذات کے لیے مدد چاہیے",
        "مجھے مارکیٹ جانا ہے",
        "مجھے پیٹ میں درد ہے",
        "میری ملاقات کب ہے؟",
        "mujhe apne documents ke liye madad chahiye",
    ),
}


def test_every_language_of_the_bot_has_crisis_words_and_cases_here() -> None:
    assert set(CRISIS_WORDS) == set(IN_DANGER) == set(ORDINARY)


@pytest.mark.parametrize(
    ("locale", "text"), [(locale, text) for locale, texts in IN_DANGER.items() for text in texts]
)
def test_what_a_person_in_danger_would_type_is_recognised(locale: str, text: str) -> None:
    assert mentions_crisis(text, locale)


@pytest.mark.parametrize(
    ("locale", "text"), [(locale, text) for locale, texts in ORDINARY.items() for text in texts]
)
def test_an_ordinary_request_is_not_taken_for_a_crisis(locale: str, text: str) -> None:
    assert not mentions_crisis(text, locale)


@pytest.mark.slow
async def test_urdu_for_i_am_in_danger_at_the_menu_brings_the_emergency_numbers(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t, locale="ur", label="اردو")
    await tap_and_wait(
        phone, user, t("Later", "ur"), t("What would you like to do? Choose from the menu below.", "ur")
    )
    note = await type_and_wait(
        phone,
        user,
        "مجھے مدد چاہیے، میں خطرے میں ہوں",
        t("It sounds like you may be going through something very hard. You are not alone.", "ur"),
    )
    assert "112" in note["text"]
    async with sessionmaker() as session:
        assert (await session.execute(select(Alert.kind))).scalars().all() == ["crisis_words"]

"""Urgent help: emergency numbers, and words in each language that suggest someone is at risk."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from programme.text import N_
from texts.visible import ZWJ, ZWNJ, visible

# Defaults for Azerbaijan; an organisation elsewhere changes them in one place.
EMERGENCY_NUMBERS: tuple[tuple[str, str], ...] = (
    ("112", N_("Emergency")),
    ("102", N_("Police")),
    ("103", N_("Ambulance")),
)

# Short stems, matched at the start of words, for self-harm, danger, threats, violence and
# exploitation or trafficking, as a person in danger would type them: in the script, colloquially,
# and in the Latin letters many type with (Finglish, Roman Urdu, Azerbaijani and Turkish without
# their own letters: matching folds those, see `_fold`). Persian is written for Afghans first (Dari:
# «مرا لت می‌کند», «در خطر استم», Kabuli «مره», «ره»), with Tehran's colloquial forms beside it.
# Bare "help" is no crisis word: "I need help with my documents" is an ordinary request.
# Deliberately small: a hint to look, never a diagnosis.
CRISIS_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "suicid",
        "kill myself",
        "end my life",
        "want to die",
        "hurt myself",
        "in danger",
        "i am not safe",
        "i'm not safe",
        "beat me",
        "beats me",
        "hits me",
        "kill me",
        "threaten",
        "rape",
        "trafficked",
        "they took my passport",
        "forced to work",
        "violence",
        "abuse",
    ),
    "ru": (
        "суицид",
        "убить себя",
        "убью себя",
        "покончить с собой",
        "покончу с собой",
        "хочу умереть",
        "не хочу жить",
        "в опасности",
        "бьет меня",
        "меня бьет",
        "бьют меня",
        "меня бьют",
        "избива",
        "меня избил",
        "убьет меня",
        "меня убьет",
        "убьют меня",
        "меня убьют",
        "угрожа",
        "угроз",
        "изнасил",
        "насили",
        "отобрали паспорт",
        "забрали паспорт",
        "паспорт отобрали",
        "паспорт забрали",
        "отобрали документы",
        "документы отобрали",
        "принуждают",
        "заставляют работать",
        "спасите",
        "v opasnosti",
        "menya bjut",
        "menya byut",
        "menya ubjut",
    ),
    "az": (
        "intihar",
        "özümü öldür",
        "özümü asacağam",
        "ölmək istəyirəm",
        "yaşamaq istəmirəm",
        "təhlükədəyəm",
        "təhlükədəyik",
        "həyatım təhlükə",
        "təhlükə altında",
        "məni döy",
        "məni öldür",
        "hədələ",
        "təhdid",
        "zorla",
        "zorakı",
        "təcavüz",
        "şiddət",
        "pasportumu aldı",
        "pasportumu əlimdən",
        "sənədlərimi əlimdən",
        "xilas edin",
    ),
    "tr": (
        "intihar",
        "kendimi öldür",
        "ölmek istiyorum",
        "yaşamak istemiyorum",
        "tehlikedeyim",
        "tehlikedeyiz",
        "hayatım tehlikede",
        "beni döv",
        "dövüyor",
        "dayak",
        "beni öldür",
        "tehdit",
        "tecavüz",
        "taciz",
        "şiddet",
        "pasaportumu aldı",
        "pasaportuma el koy",
        "zorla çalıştır",
        "imdat",
    ),
    "fa": (
        "خودکشی",
        "خود کشی",
        "خودم را بکشم",
        "خود را بکشم",
        "خودم ره بکشم",
        "خود ره بکشم",
        "می‌خواهم بمیرم",
        "میخوام بمیرم",
        "نمی‌خواهم زنده",
        "در خطر",
        "مرا لت",
        "مره لت",
        "لت و کوب",
        "لت‌وکوب",
        "مرا می‌زند",
        "مرا می‌زنه",
        "مره می‌زنه",
        "منو میزنه",
        "مرا می‌کش",
        "مرا بکش",
        "مره می‌کش",
        "مره بکش",
        "منو میکش",
        "منو بکش",
        "تهدید",
        "تجاوز",
        "آزار جنسی",
        "خشونت",
        "پاسپورتم را گرفت",
        "پاسپورتم ره گرفت",
        "پاسپورت مرا گرفت",
        "تذکره‌ام را گرفت",
        "گذرنامه‌ام را گرفت",
        "مجبور به کار",
        "به زور کار",
        "نجاتم",
        "khodkoshi",
        "khodkushi",
        "mara lat",
        "mara mizan",
        "mano mizane",
        "mara mekosh",
        "mano mikoshe",
        "dar khatar",
        "mikham bemiram",
        "mekhaham bemiram",
        "tajavoz",
        "khoshunat",
        "khoshoonat",
    ),
    "ps": (
        "ځان وژن",
        "ځان ووژن",
        "غواړم مړ شم",
        "په خطر کې",
        "خطر کې یم",
        "ما وهي",
        "ما یې وهي",
        "وهل ټکول",
        "ما ووژن",
        "ما به ووژن",
        "ګواښ",
        "تېری",
        "تاوتریخوالی",
        "تاو تریخوالی",
        "زور زیاتی",
        "پاسپورټ مې واخیست",
        "پاسپورټ یې راڅخه واخیست",
        "په زور کار",
        "ما وژغور",
        "zan wazhn",
        "zan wajn",
        "ma wahi",
        "pa khatar ke",
        "khatar ke yam",
    ),
    "ur": (
        "خودکشی",
        "خود کشی",
        "خود کو مار",
        "اپنی جان لے",
        "مرنا چاہت",
        "جینا نہیں چاہت",
        "خطرے میں",
        "جان کو خطرہ",
        "مجھے مارتا",
        "مجھے مارتی",
        "مجھے مارتے",
        "مجھے مار دے",
        "مجھے مار ڈال",
        "جان سے مار",
        "مجھے پیٹتا",
        "مجھے پیٹتی",
        "مجھے پیٹتے",
        "مار پیٹ",
        "دھمکی",
        "دھمکا",
        "زیادتی",
        "ریپ",
        "جنسی ہراس",
        "تشدد",
        "پاسپورٹ لے لیا",
        "پاسپورٹ چھین",
        "پاسپورٹ رکھ لیا",
        "زبردستی",
        "مجھے بچا",
        "khudkushi",
        "khudkashi",
        "khud ko maar",
        "marna chahta",
        "marna chahti",
        "khatre me",
        "khatre mai",
        "khatray me",
        "khatray mai",
        "mujhe marta",
        "mujhe maarta",
        "mujhe marti",
        "mujhe maarti",
        "mujhe maar de",
        "jaan se maar",
        "dhamki",
        "tashaddud",
        "tashadud",
        "zabardasti",
        "passport cheen",
        "passport chheen",
        "passport le liya",
        "mujhe bachao",
    ),
}

# Letters people type for one another: the Arabic keyboard's yeh and kaf for the Persian ones,
# Urdu's heh forms and Pashto's gaf for the plain ones, ə and ı as e and i; the tatweel only
# stretches a word.
_SAME_LETTERS = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ہ": "ه",
        "ۃ": "ه",
        "ة": "ه",
        "ھ": "ه",
        "ګ": "گ",
        "ə": "e",
        "ı": "i",
        "\u0640": None,
    }
)


def _fold(text: str) -> str:
    # Case, width, spacing and invisible characters must not hide a word. The non-joiner is
    # spelling (می‌زند), but people type the same word with it or without it (میزند), so matching
    # ignores it; marks go too (ş, ö, ё, the Arabic short vowels and hamza), as people without
    # those keys type "meni doyur" for «məni döyür».
    seen = visible(text).replace(ZWNJ, "").replace(ZWJ, "").casefold()
    bare = "".join(char for char in unicodedata.normalize("NFKD", seen) if not unicodedata.combining(char))
    return " ".join(bare.translate(_SAME_LETTERS).split())


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # A stem matches with the rest of its word, so a reader sees "suicidal", not "suicid".
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(_fold(word)) for word in words) + r")\w*")


def crisis_words_in(text: str, locale: str) -> list[str]:
    """The crisis words of the person's language or of English the text has, as they wrote them
    (case and width folded), each once."""
    folded = _fold(text)
    found: dict[str, None] = {}
    for language in dict.fromkeys((locale, "en")):
        words = CRISIS_WORDS.get(language)
        if words is None:
            continue
        pattern = _PATTERNS.setdefault(language, _pattern(words))
        for match in pattern.finditer(folded):
            found.setdefault(match.group(0).strip(), None)
    return list(found)


def mentions_crisis(text: str, locale: str) -> bool:
    """True when the text has a crisis word of the person's language or of English."""
    return bool(crisis_words_in(text, locale))

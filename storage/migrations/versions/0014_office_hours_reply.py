"""office hours reply: the shipped "Office hours" ready reply names the hours saved on the
organisation page ({hours}) instead of a fixed Monday to Friday, 09:00 to 18:00

Revision ID: 0014_office_hours_reply
Revises: 0013_organisation
Create Date: 2026-12-07

Only a text still exactly as shipped (0013_organisation) is changed, language by language: a text an
office wrote or corrected itself is theirs and is left as it is, in this reply or any other.
Downgrading puts back the shipped texts where the new ones are still unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_office_hours_reply"
down_revision: str | Sequence[str] | None = "0014_feedback_overdue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The texts as 0013_organisation shipped them, by bot language.
FIXED: dict[str, str] = {
    "en": "Our office is open Monday to Friday, 09:00 to 18:00.",
    "az": "Ofisimiz bazar ertəsindən cüməyə qədər, saat 09:00-dan 18:00-a qədər açıqdır.",
    "ru": "Наш офис открыт с понедельника по пятницу, с 09:00 до 18:00.",
    "fa": "دفتر ما از دوشنبه تا جمعه، از ساعت 09:00 تا 18:00 باز است.",
    "ps": "زموږ دفتر له دوشنبې تر جمعې پورې، له 09:00 بجو تر 18:00 بجو پورې خلاص وي.",
    "ur": "ہمارا دفتر پیر سے جمعہ تک، 09:00 سے 18:00 بجے تک کھلا رہتا ہے۔",
    "tr": "Ofisimiz pazartesiden cumaya, 09:00 ile 18:00 arasında açıktır.",
}
# The same reply naming the saved hours, filled when it is sent (wording.replies.ready_reply_text).
SAVED_HOURS: dict[str, str] = {
    "en": "Our office is open at these hours:\n{hours}",
    "az": "Ofisimiz bu saatlarda açıqdır:\n{hours}",
    "ru": "Часы работы нашего офиса:\n{hours}",
    "fa": "دفتر ما در این ساعات باز است:\n{hours}",
    "ps": "زموږ دفتر په دې وختونو کې خلاص وي:\n{hours}",
    "ur": "ہمارا دفتر ان اوقات میں کھلا رہتا ہے:\n{hours}",
    "tr": "Ofisimiz şu saatlerde açıktır:\n{hours}",
}

_REPLIES = sa.table("ready_replies", sa.column("id", sa.Integer()), sa.column("texts", sa.JSON()))


def _replace(old: dict[str, str], new: dict[str, str]) -> None:
    connection = op.get_bind()
    for reply_id, texts in connection.execute(sa.select(_REPLIES.c.id, _REPLIES.c.texts)).all():
        if not isinstance(texts, dict):
            continue
        changed = {
            code: new[code] if code in old and text == old[code] else text for code, text in texts.items()
        }
        if changed != texts:
            connection.execute(_REPLIES.update().where(_REPLIES.c.id == reply_id).values(texts=changed))


def upgrade() -> None:
    _replace(FIXED, SAVED_HOURS)


def downgrade() -> None:
    _replace(SAVED_HOURS, FIXED)

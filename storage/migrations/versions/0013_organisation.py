"""organisation: the organisation's settings (data controller and contact per language, the
programme's hours) and the ready replies, with the four replies shipped until now in all seven
bot languages

Revision ID: 0013_organisation
Revises: 0013_staff_alerts
Create Date: 2026-12-07

The replies were code (programme/canned.py) in English, Azerbaijani and Russian; Dari, Pashto,
Urdu and Turkish speakers got the English text. They become rows supervisors keep.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013_organisation"
down_revision: str | Sequence[str] | None = "0013_staff_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (labels by console language, texts by bot language), as shipped.
SHIPPED: tuple[tuple[dict[str, str], dict[str, str]], ...] = (
    (
        {
            "en": "We have your message and will answer soon",
            "az": "Mesajınızı aldıq, tezliklə cavab verəcəyik",
            "ru": "Мы получили ваше сообщение и скоро ответим",
        },
        {
            "en": "Thank you, we have your message. A caseworker will answer you soon.",
            "az": "Təşəkkür edirik, mesajınızı aldıq. Sosial işçi tezliklə sizə cavab verəcək.",
            "ru": "Спасибо, мы получили ваше сообщение. Социальный работник скоро вам ответит.",
            "fa": "تشکر، پیام شما را دریافت کردیم. یک مددکار اجتماعی به زودی به شما جواب می‌دهد.",
            "ps": "مننه، ستاسو پیغام مو ترلاسه کړ. یو ټولنیز کارکوونکی به ژر تاسو ته ځواب درکړي.",
            "ur": "شکریہ، ہمیں آپ کا پیغام مل گیا ہے۔ ایک سوشل ورکر جلد آپ کو جواب دیں گے۔",
            "tr": "Teşekkürler, mesajınızı aldık. Bir sosyal çalışmacı size yakında cevap verecek.",
        },
    ),
    (
        {"en": "We will call you", "az": "Sizə zəng edəcəyik", "ru": "Мы вам позвоним"},
        {
            "en": "A caseworker will call you. Please keep your phone near you.",
            "az": "Sosial işçi sizə zəng edəcək. Zəhmət olmasa, telefonunuzu yanınızda saxlayın.",
            "ru": "Социальный работник вам позвонит. Пожалуйста, держите телефон рядом.",
            "fa": "یک مددکار اجتماعی به شما تلیفون می‌کند. لطفاً تلیفون تان را نزد خود نگه دارید.",
            "ps": "یو ټولنیز کارکوونکی به تاسو ته ټیلیفون وکړي. مهرباني وکړئ خپل ټیلیفون له ځان سره وساتئ.",
            "ur": "ایک سوشل ورکر آپ کو فون کریں گے۔ براہِ کرم اپنا فون اپنے پاس رکھیں۔",
            "tr": "Bir sosyal çalışmacı sizi arayacak. Lütfen telefonunuzu yanınızda bulundurun.",
        },
    ),
    (
        {
            "en": "Bring your documents to the meeting",
            "az": "Görüşə sənədlərinizi gətirin",
            "ru": "Возьмите документы на встречу",
        },
        {
            "en": "Please bring your passport and any residence documents to the meeting.",
            "az": "Zəhmət olmasa, görüşə pasportunuzu və yaşayış sənədlərinizi gətirin.",
            "ru": "Пожалуйста, возьмите на встречу паспорт и документы о проживании.",
            "fa": "لطفاً پاسپورت و هر سند اقامتی که دارید را با خود به ملاقات بیاورید.",
            "ps": "مهرباني وکړئ خپل پاسپورټ او د اوسېدو هر ډول اسناد له ځان سره ملاقات ته راوړئ.",
            "ur": "براہِ کرم ملاقات پر اپنا پاسپورٹ اور رہائش کی جو بھی دستاویزات آپ کے پاس ہوں، ساتھ لائیں۔",
            "tr": "Lütfen görüşmeye pasaportunuzu ve varsa oturma belgelerinizi getirin.",
        },
    ),
    (
        {"en": "Office hours", "az": "İş saatları", "ru": "Часы работы офиса"},
        {
            "en": "Our office is open Monday to Friday, 09:00 to 18:00.",
            "az": "Ofisimiz bazar ertəsindən cüməyə qədər, saat 09:00-dan 18:00-a qədər açıqdır.",
            "ru": "Наш офис открыт с понедельника по пятницу, с 09:00 до 18:00.",
            "fa": "دفتر ما از دوشنبه تا جمعه، از ساعت 09:00 تا 18:00 باز است.",
            "ps": "زموږ دفتر له دوشنبې تر جمعې پورې، له 09:00 بجو تر 18:00 بجو پورې خلاص وي.",
            "ur": "ہمارا دفتر پیر سے جمعہ تک، 09:00 سے 18:00 بجے تک کھلا رہتا ہے۔",
            "tr": "Ofisimiz pazartesiden cumaya, 09:00 ile 18:00 arasında açıktır.",
        },
    ),
)


def upgrade() -> None:
    op.create_table(
        "organisation_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("controller", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("controllers", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    replies = op.create_table(
        "ready_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        replies,
        [{"labels": labels, "texts": texts, "active": True, "changed_at": now} for labels, texts in SHIPPED],
    )


def downgrade() -> None:
    op.drop_table("ready_replies")
    op.drop_table("organisation_settings")

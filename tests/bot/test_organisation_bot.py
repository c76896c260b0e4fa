"""The organisation's settings as the bot uses them: the name and contact in the person's language,
a new consent text version when they change (seen without a restart), and the programme's hours in
the "closed" answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from programme import consent
from programme.organisation import Organisation
from programme.retention import RetentionPolicy
from sandbox.client import SandboxClient
from storage.models_journey import Consent
from storage.organisation import organisation_is_set_up, save_organisation
from tests.bot.test_journey import tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate, choose_language
from texts.bidi import without_controls
from wording import dates

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
PERSIAN_NAME = "انجمن یاری پل"
SAVED = Organisation(
    controller="Bridge Aid",
    contact="privacy@bridge-aid.example",
    controllers={"fa": PERSIAN_NAME},
    contacts={"fa": "دفتر حفاظت معلومات، privacy@bridge-aid.example"},
)


async def save(sessionmaker: async_sessionmaker[AsyncSession], organisation: Organisation) -> None:
    async with sessionmaker() as session, session.begin():
        await save_organisation(session, organisation, staff_id=None)


# ── the programme's hours ───────────────────────────────────────────────────────────────────────


def test_the_next_opening_is_found_in_the_programmes_time_zone_breaks_included() -> None:
    organisation = Organisation(hours={0: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18)))})
    # Monday 30 November 2026; Baku is UTC+4.
    monday_break = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)  # 13:30 in Baku
    assert organisation.next_opening(monday_break, BAKU) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    monday_morning = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)  # 10:00 in Baku
    assert organisation.next_opening(monday_morning, BAKU) is None
    monday_evening = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # 19:00: next Monday
    assert organisation.next_opening(monday_evening, BAKU) == dt.datetime(2026, 12, 7, 5, 0, tzinfo=dt.UTC)
    friday_evening = dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC)  # 20:00 Friday, the defaults
    assert Organisation().next_opening(friday_evening, BAKU) == dt.datetime(2026, 11, 30, 5, 0, tzinfo=dt.UTC)


async def test_the_closed_answer_follows_the_hours_an_administrator_set(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], now: dt.datetime
) -> None:
    # Open one hour on a day three days after the bot's clock only: closed then, whatever its hour.
    weekday = (now.astimezone(BAKU).weekday() + 3) % 7
    hours = Organisation(controller="Bridge Aid", hours={weekday: ((dt.time(10), dt.time(11)),)})
    await save(sessionmaker, hours)
    opening = hours.next_opening(now, BAKU)
    assert opening is not None and opening.astimezone(BAKU).weekday() == weekday
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await type_and_wait(phone, user, "/caseworker", t("What would you like to talk about?"))
    told = await tap_and_wait(phone, user, t("Housing"), t("Write your message below.")[:20])
    when = dates.weekday_time(opening, BAKU, "en")
    expected = t("Our office is closed now. A caseworker will answer from {when}.", when=when)
    assert without_controls(expected) in without_controls(told["text"])


# ── the name, the contact and the consent text version ──────────────────────────────────────────


async def test_a_persian_reader_gets_the_persian_name_given_and_the_change_needs_no_restart(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await phone.create_user(language_code="fa")
    await choose_language(phone, before, "فارسی / دری")
    assert "Bridge Aid Association" in (await phone.bot_messages(before))[-1]["text"]  # the environment's
    async with sessionmaker() as session:
        assert await organisation_is_set_up(session) is False
    await save(sessionmaker, SAVED)
    async with sessionmaker() as session:
        assert await organisation_is_set_up(session) is True
    # The same bot process, no restart: the next notice names what was saved.
    persian = await phone.create_user(language_code="fa")
    await choose_language(phone, persian, "فارسی / دری")
    notice = (await phone.bot_messages(persian))[-1]["text"]
    assert PERSIAN_NAME in notice and "دفتر حفاظت معلومات" in notice
    assert "Bridge Aid" not in notice  # no Latin-script name for a Persian reader
    english = await phone.create_user(language_code="en")
    await choose_language(phone, english, "English")
    notice = (await phone.bot_messages(english))[-1]["text"]
    assert "Bridge Aid" in notice and "Bridge Aid Association" not in notice
    assert "privacy@bridge-aid.example" in notice and PERSIAN_NAME not in notice


async def give_consent(phone: SandboxClient, t: Translate, user: int) -> None:
    """From the consent text to the saved choices."""
    await tap_and_wait(phone, user, t("I have read it"), "1 of 3")
    await tap_and_wait(phone, user, t("Yes"), "2 of 3")
    await tap_and_wait(phone, user, t("No"), "3 of 3")
    await tap_and_wait(phone, user, t("No"), "/consent")


async def consents(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Consent]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Consent).order_by(Consent.recorded_at))).scalars())


async def test_a_change_of_what_the_consent_text_names_makes_a_new_version_and_old_consents_keep_theirs(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    bot_config: BotConfig,
) -> None:
    retention, defaults = bot_config.retention, bot_config.organisation_defaults()
    first_version = defaults.consent_version(retention, defaults=defaults)
    # Nothing saved, the shipped periods: the wording's own version, as before the console kept it.
    assert first_version == consent.TEXT_VERSION
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await type_and_wait(phone, user, "/consent", t("Are you 18 years old or older?"))
    await tap_and_wait(phone, user, t("Yes"), "Bridge Aid Association")
    # Read under the environment's name; an administrator saves another before the last choice:
    # the consent is recorded under the text the person read.
    await tap_and_wait(phone, user, t("I have read it"), "1 of 3")
    await save(sessionmaker, SAVED)
    await tap_and_wait(phone, user, t("Yes"), "2 of 3")
    await tap_and_wait(phone, user, t("No"), "3 of 3")
    await tap_and_wait(phone, user, t("No"), "/consent")
    [first] = await consents(sessionmaker)
    assert first.text_version == first_version
    # Given again: the text names what was saved, under a new version.
    await type_and_wait(phone, user, "/consent", t("Recorded on {date}.").split("{")[0])
    text = await tap_and_wait(phone, user, t("Change my choices"), "privacy@bridge-aid.example")
    assert "Bridge Aid Association" not in text["text"]
    await give_consent(phone, t, user)
    old, new = await consents(sessionmaker)
    assert (old.id, old.text_version) == (first.id, first_version)
    assert new.text_version == SAVED.consent_version(retention, defaults=defaults) != first_version
    assert new.text_hash != old.text_hash


def test_the_version_changes_with_anything_the_text_names_in_any_language_and_only_then() -> None:
    base = Organisation(controller="Bridge Aid", contact="privacy@bridge-aid.example")
    retention = BotConfig().retention
    environment = Organisation(controller="Bridge Aid")

    def version(organisation: Organisation, periods: RetentionPolicy = retention) -> str:
        return organisation.consent_version(periods, defaults=environment)

    same = Organisation(controller="Bridge Aid", contact="privacy@bridge-aid.example", hours={})
    assert version(same) == version(base)  # hours are not named
    changes = [
        Organisation(controller="Bridge Aid Association", contact=base.contact),
        Organisation(controller=base.controller, contact="+994 12 555 00 00"),
        Organisation(
            controller=base.controller, contact=base.contact, controllers={"ps": "د پل مرستندويه ټولنه"}
        ),
        Organisation(
            controller=base.controller, contact=base.contact, contacts={"tr": "veri@bridge.example"}
        ),
    ]
    versions = {version(change) for change in changes}
    assert len(versions) == len(changes) and version(base) not in versions
    longer = dataclasses.replace(retention, closed_days=retention.closed_days + 365)
    assert version(base, longer) != version(base)  # the periods are named too
    assert all(len(version) <= 16 for version in versions)  # storage.models_journey.Consent.text_version


def test_the_shipped_settings_keep_the_wordings_own_version_and_only_they_do() -> None:
    """A site upgraded from 2026-12 with nothing changed records 2026-12 as it did before; the
    environment's name (INTAKE_DATA_CONTROLLER) was always part of that text."""
    environment = Organisation(controller="Bridge Aid", contact="privacy@bridge-aid.example")
    retention = BotConfig().retention
    assert environment.consent_version(retention, defaults=environment) == consent.TEXT_VERSION
    # The same values saved on the organisation page (different hours: not named) change nothing.
    saved_alike = Organisation(controller="Bridge Aid", contact="privacy@bridge-aid.example", hours={})
    assert saved_alike.consent_version(retention, defaults=environment) == consent.TEXT_VERSION
    # Anything the text names that differs from the shipped text is a suffixed version.
    differing = [
        (
            Organisation(
                controller="Bridge Aid",
                contact="privacy@bridge-aid.example",
                controllers={"fa": PERSIAN_NAME},
            ),
            retention,
        ),
        (Organisation(controller="Bridge Aid Association", contact="privacy@bridge-aid.example"), retention),
        (environment, dataclasses.replace(retention, unenrolled_days=90)),
    ]
    for organisation, periods in differing:
        version = organisation.consent_version(periods, defaults=environment)
        assert version.startswith(consent.TEXT_VERSION + "-") and len(version) <= 16, version

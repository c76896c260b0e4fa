"""In a real browser (Debian's Chromium, headless): an administrator resets a caseworker's password and
changes her language; she signs in with the temporary password, lands on "My account" whatever she
opens, chooses her own, and then finds a case by the person's phone. Screenshots go to
test-artifacts/console/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import person_keys, phone
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, StaffUser
from storage.sealing import seal
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url

MakeUser = Callable[..., Awaitable[StaffUser]]
NEW_PASSWORD = "tea with thyme on a cold morning"

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser tests


async def test_a_reset_password_is_changed_at_sign_in_and_a_case_is_found_by_phone(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await make_user("admin1", role="admin", display_name="Aida Administrator")
    await make_user("leyla", display_name="Leyla Caseworker")
    async with sessionmaker() as session:
        beneficiary = Beneficiary(telegram_hash=crypto.blind_index("telegram", "4242"))
        person_keys.add_new(session, crypto, beneficiary.id)
        seal(crypto, beneficiary, "telegram_id_enc", "4242")
        seal(crypto, beneficiary, "name_enc", "Olga Petrova")
        phone.set_phone(crypto, beneficiary, "+994501234567")
        session.add(Case(beneficiary=beneficiary, code="IP-2026-000777", stage="new", language="ru"))
        await session.commit()
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        admin = await open_page(browser, problems)
        await sign_in(admin, console_url, "admin1")
        await admin.get_by_role("link", name="Accounts").click()
        row = admin.locator('tr[data-account="leyla"]')
        await row.locator("summary").click()
        await row.get_by_label("Language").select_option("ru")
        await row.get_by_role("button", name="Change the language").click()
        await expect(admin.locator("#account-done")).to_contain_text("leyla")
        row = admin.locator('tr[data-account="leyla"]')
        await row.locator("summary").click()
        await row.get_by_role("button", name="Reset the password of leyla").click()
        temporary = (await admin.locator("#temporary-value").text_content() or "").strip()
        assert len(temporary) == 19
        await admin.screenshot(path=str(shots / "accounts-1-temporary-password.png"), full_page=True)

        holder = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await sign_in(holder, console_url, "leyla", temporary)
        await holder.goto(f"{console_url}/cases")
        await expect(holder).to_have_url(f"{console_url}/account")
        await expect(holder.locator("html")).to_have_attribute("lang", "ru")
        await expect(holder.locator("#must-change")).to_be_visible()
        await holder.screenshot(path=str(shots / "accounts-2-must-change.png"), full_page=True)
        await holder.locator("#p-current").fill(temporary)
        await holder.locator("#p-new").fill(NEW_PASSWORD)
        await holder.locator("#p-repeated").fill(NEW_PASSWORD)
        await holder.locator("#p-new").press("Enter")
        await expect(holder.locator("#password-changed")).to_be_visible()
        await holder.locator("#l-language").select_option("en")
        await holder.get_by_role("button", name="Изменить язык").click()
        await expect(holder.locator("html")).to_have_attribute("lang", "en")

        await holder.get_by_role("link", name="Cases").click()
        await holder.get_by_label("Find a case by its code or a phone number").fill("050 123 45 67")
        await holder.get_by_role("button", name="Find", exact=True).click()
        await expect(holder.locator("main #search-result")).to_have_text("1 case found.")
        await expect(holder.locator('main tr[data-case="IP-2026-000777"]')).to_be_visible()
        assert "Olga" not in await holder.content()
        await holder.screenshot(path=str(shots / "accounts-3-found-by-phone.png"), full_page=True)
    assert problems == []

"""Outreach channels in the console: making and changing them, their counts, and their flyers."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pypdf
import pytest
import zxingcpp
from bs4 import BeautifulSoup
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageFilter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console import flyer, fonts
from caseworker_console.app import create_app
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, StaffUser
from storage.models_channels import Channel
from storage.models_journey import Consent
from tests.console.conftest import BASE_URL, case_for, form_token
from wording.languages import LANGUAGES, RIGHT_TO_LEFT

BOT = "bridge_intake_bot"
SignIn = Callable[..., Awaitable[StaffUser]]


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> Starlette:
    return create_app(sessionmaker=sessionmaker, crypto=crypto, bot_username=BOT)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, page: str
) -> httpx.Response:
    token = form_token(await client.get(page))
    return await client.post(path, data={"csrf_token": token, **data})


async def channels(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Channel]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Channel).order_by(Channel.id))).scalars())


async def add_channel(sessionmaker: async_sessionmaker[AsyncSession], **fields: Any) -> Channel:
    values = {"code": "campus-1", "name": "Baku State University", "kind": "university", "languages": ["en"]}
    async with sessionmaker() as session:
        channel = Channel(**{**values, **fields})
        session.add(channel)
        await session.commit()
        return channel


def figures_of(html: str, code: str) -> dict[str, str]:
    row = BeautifulSoup(html, "lxml").select_one(f"tr[data-channel='{code}']")
    assert row is not None, f"no row for {code}"
    return {cell["data-figure"]: cell.get_text(strip=True) for cell in row.select("[data-figure]")}


async def test_an_outreach_officer_makes_changes_and_deactivates_a_channel(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    officer = await sign_in_as("officer", role="outreach")
    made = await post_form(
        client,
        "/channels",
        {
            "name": "  Baku State   University ",
            "kind": "university",
            "code": "BSU-2026",
            "languages": ["fa", "en"],
        },
        page="/channels",
    )
    assert made.status_code == 303
    [channel] = await channels(sessionmaker)
    assert (channel.code, channel.name, channel.kind) == ("BSU-2026", "Baku State University", "university")
    assert channel.languages == ["en", "fa"]  # in the bot's order
    assert channel.active and channel.created_by == officer.id
    assert made.headers["location"] == f"/channels/{channel.id}"

    page = BeautifulSoup((await client.get(made.headers["location"])).text, "lxml")
    assert page.select_one("#deep-link").get_text() == f"https://t.me/{BOT}?start=BSU-2026"
    assert {link["href"] for link in page.select(".flyer-downloads a")} == {
        f"/channels/{channel.id}/flyer.pdf",
        f"/channels/{channel.id}/flyer.png",
    }

    changed = await post_form(
        client,
        f"/channels/{channel.id}",
        {"name": "Hospital No. 3", "kind": "hospital", "code": "other", "languages": ["ur", "ru"]},
        page=f"/channels/{channel.id}",
    )
    assert changed.status_code == 303
    [channel] = await channels(sessionmaker)
    assert (channel.code, channel.name, channel.kind, channel.languages) == (
        "BSU-2026",  # a code never changes: its flyers are printed
        "Hospital No. 3",
        "hospital",
        ["ru", "ur"],
    )

    off = await post_form(
        client, f"/channels/{channel.id}/active", {"active": "0"}, page=f"/channels/{channel.id}"
    )
    assert off.status_code == 303
    [channel] = await channels(sessionmaker)
    assert not channel.active
    listing = BeautifulSoup((await client.get("/channels")).text, "lxml")
    assert (
        listing.select_one("tr[data-channel='BSU-2026']").get_text(" ", strip=True).count("Deactivated") == 1
    )

    async with sessionmaker() as session:
        audit = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(entry.action, entry.object_id, entry.actor) for entry in audit] == [
        ("channel.created", "BSU-2026", f"staff:{officer.id}"),
        ("channel.changed", "BSU-2026", f"staff:{officer.id}"),
        ("channel.deactivated", "BSU-2026", f"staff:{officer.id}"),
    ]


async def test_an_empty_code_gets_a_random_one(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("officer", role="outreach")
    for _ in range(2):
        made = await post_form(
            client,
            "/channels",
            {"name": "Meeting", "kind": "community_meeting", "languages": ["ps"]},
            page="/channels",
        )
        assert made.status_code == 303
    codes = [channel.code for channel in await channels(sessionmaker)]
    assert len(set(codes)) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{8}", code) for code in codes)


async def test_a_form_sent_twice_makes_one_channel(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A double click or a resent form: the code the form proposed is the same both times, so the
    second answer is the first one's channel, not a second channel nor a "code taken"."""
    await sign_in_as("officer", role="outreach")
    page = BeautifulSoup((await client.get("/channels")).text, "lxml")
    proposed = page.select_one("#new-code")["value"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", proposed)
    data = {
        "csrf_token": page.select_one("input[name=csrf_token]")["value"],
        "name": "Clinic",
        "kind": "hospital",
        "code": proposed,
        "languages": ["fa", "ur"],
    }
    first, second = await asyncio.gather(
        client.post("/channels", data=data), client.post("/channels", data=data)
    )
    third = await client.post("/channels", data=data)
    [channel] = await channels(sessionmaker)
    assert channel.code == proposed
    assert {first.status_code, second.status_code, third.status_code} == {303}
    assert {first.headers["location"], second.headers["location"], third.headers["location"]} == {
        f"/channels/{channel.id}"
    }
    async with sessionmaker() as session:
        audit = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert audit == ["channel.created"]

    # The same code with other fields, or by someone else, is a different request: refused.
    changed = await client.post("/channels", data={**data, "name": "Another clinic"})
    assert changed.status_code == 400
    await sign_in_as("colleague", role="supervisor")
    other = await client.post(
        "/channels", data={**data, "csrf_token": form_token(await client.get("/channels"))}
    )
    assert other.status_code == 400
    assert "Another channel already has this code" in other.text
    assert len(await channels(sessionmaker)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "has space"}, "A code is 1 to 64"),
        ({"code": "x" * 65}, "A code is 1 to 64"),
        ({"code": "bot"}, "are taken"),
        ({"code": "<script>"}, "A code is 1 to 64"),
        ({"code": "campus-1"}, "Another channel already has this code"),
        ({"code": "CAMPUS-1"}, "Another channel already has this code"),
        ({"name": "   "}, "Give the channel a name."),
        ({"name": "n" * 121}, "at most 120 characters"),
        ({"kind": "nightclub"}, "Choose the kind of channel."),
        ({"languages": ["xx"]}, "Choose at least one language"),
        ({"languages": []}, "Choose at least one language"),
    ],
)
async def test_bad_input_is_refused_with_a_reason_and_what_was_typed_is_kept(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    message: str,
) -> None:
    await add_channel(sessionmaker)
    await sign_in_as("officer", role="outreach")
    data = {"name": "Library", "kind": "other", "code": "library-1", "languages": ["az"], **fields}
    refused = await post_form(client, "/channels", data, page="/channels")
    assert refused.status_code == 400
    page = BeautifulSoup(refused.text, "lxml")
    assert message in page.select_one("#channel-error").get_text()
    assert page.select_one("#new-name")["value"] == data["name"][:200]
    assert [channel.code for channel in await channels(sessionmaker)] == ["campus-1"]


async def test_an_unknown_channel_is_not_found_and_a_change_without_a_name_is_refused(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    channel = await add_channel(sessionmaker)
    await sign_in_as("boss", role="supervisor")
    assert (await client.get("/channels/999999")).status_code == 404
    assert (await client.get("/channels/abc")).status_code == 404
    assert (await client.get("/channels/99999999999999999999")).status_code == 404
    refused = await post_form(
        client,
        f"/channels/{channel.id}",
        {"name": "", "kind": "other", "languages": ["en"]},
        page="/channels",
    )
    assert refused.status_code == 400
    assert [(saved.name, saved.kind) for saved in await channels(sessionmaker)] == [
        ("Baku State University", "university")
    ]


async def seed_figures(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """campus-1: 7 applicants, 5 provisionally eligible, 5 enrolled (one of them enrolled twice over,
    one whose consent was withdrawn, one who refused case work); clinic: 3, 1, 0; fair: none."""
    codes = (f"IP-2026-{number:06d}" for number in range(1, 100))
    now = dt.datetime.now(dt.UTC)

    def case(source: str, eligible: bool | None) -> Case:
        return case_for({"code": next(codes), "source": source, "provisionally_eligible": eligible})

    campus = [case("campus-1", True) for _ in range(5)] + [case("campus-1", False), case("campus-1", None)]
    clinic = [case("clinic", True), case("clinic", False), case("clinic", None)]
    elsewhere = [case("bot", True), case("console", True), case("removed-channel", True)]
    async with sessionmaker() as session:
        session.add_all([*campus, *clinic, *elsewhere])
        await session.flush()

        def consent(target: Case, *, casework: bool = True, superseded: bool = False) -> Consent:
            return Consent(
                case_id=target.id,
                text_version="1",
                text_hash="0" * 64,
                language="ru",
                casework=casework,
                publicity="none",
                third_party=False,
                superseded_at=now if superseded else None,
            )

        session.add_all(
            [
                # Enrolled: four eligible ones and the one the bot did not screen (entered in person).
                *(consent(target) for target in campus[:4]),
                consent(campus[6]),
                # An older consent, superseded by the current one: still one enrolled case.
                consent(campus[0], superseded=True),
                # Withdrawn: the current consent refuses case work; the earlier one allowed it.
                consent(campus[4], casework=True, superseded=True),
                consent(campus[4], casework=False),
                # Refused case work from the start.
                consent(campus[5], casework=False),
                consent(clinic[0], casework=False),
                *(consent(target) for target in elsewhere),
            ]
        )
        session.add_all(
            [
                Channel(code="campus-1", name="Campus", kind="university", languages=["en"]),
                Channel(code="clinic", name="Clinic", kind="hospital", languages=["fa"]),
                Channel(code="fair", name="Fair", kind="community_meeting", languages=["tr"], active=False),
            ]
        )
        await session.commit()


async def test_the_figures_per_channel_are_the_hand_counted_ones_with_small_cells_masked(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from storage.channels import figures

    await seed_figures(sessionmaker)
    async with sessionmaker() as session:
        counted = await figures(session, codes=["campus-1", "clinic", "fair"])
    assert {code: (f.applicants, f.provisionally_eligible, f.enrolled) for code, f in counted.items()} == {
        "campus-1": (7, 5, 5),
        "clinic": (3, 1, 0),
        "fair": (0, 0, 0),
    }

    await sign_in_as("officer", role="outreach")
    listing = await client.get("/channels")
    assert figures_of(listing.text, "campus-1") == {"applicants": "7", "eligible": "5", "enrolled": "5"}
    assert figures_of(listing.text, "clinic") == {"applicants": "<5", "eligible": "<5", "enrolled": "<5"}
    assert figures_of(listing.text, "fair") == {"applicants": "<5", "eligible": "<5", "enrolled": "<5"}
    # Counts only: no case code, stage or anything else of a case reaches an outreach officer.
    assert "IP-2026-" not in listing.text
    async with sessionmaker() as session:
        campus_id = (await session.execute(select(Channel.id).where(Channel.code == "campus-1"))).scalar_one()
    detail = BeautifulSoup((await client.get(f"/channels/{campus_id}")).text, "lxml")
    assert {dd["data-figure"]: dd.get_text() for dd in detail.select("dd[data-figure]")} == {
        "applicants": "7",
        "eligible": "5",
        "enrolled": "5",
    }
    assert "IP-2026-" not in str(detail)


async def test_without_the_bot_username_there_is_no_link_and_no_flyer(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sign_in_as: SignIn,
    client: httpx.AsyncClient,
) -> None:
    channel = await add_channel(sessionmaker)
    bare = create_app(sessionmaker=sessionmaker, crypto=crypto)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url=BASE_URL) as http:
        await sign_in_as("officer", role="outreach")
        http.cookies = client.cookies
        page = BeautifulSoup((await http.get(f"/channels/{channel.id}")).text, "lxml")
        assert page.select_one("#deep-link") is None
        assert page.select(".flyer-downloads") == []
        refused = await http.get(f"/channels/{channel.id}/flyer.pdf")
    assert refused.status_code == 409
    assert (
        "TELEGRAM_BOT_USERNAME" in BeautifulSoup(refused.text, "lxml").select_one("#channel-error").get_text()
    )


def printable(text: str) -> str:
    """PDF text as words: fpdf2 maps contextual Arabic glyph forms to control characters in the
    extracted text, which are dropped, and every run of spaces and line breaks becomes one space."""
    kept = "".join(char for char in text if unicodedata.category(char) != "Cc" or char in "\n ")
    return " ".join(kept.split())


async def test_the_flyer_pdf_has_the_link_and_the_invitation_in_every_chosen_language(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    channel = await add_channel(sessionmaker, languages=list(LANGUAGES))
    await sign_in_as("officer", role="outreach")
    response = await client.get(f"/channels/{channel.id}/flyer.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="flyer-campus-1.pdf"'
    assert response.headers["cache-control"] == "no-store"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = printable(reader.pages[0].extract_text())
    assert f"https://t.me/{BOT}?start=campus-1" in text
    for language in sorted(set(LANGUAGES) - RIGHT_TO_LEFT):
        title, body = flyer.invitation(language)
        assert printable(title) in text, language
        assert printable(body) in text, language
    # Shaped Arabic script comes out of pypdf with its joined forms' codes among the letters and
    # its runs reordered, so the right-to-left texts are compared letter by letter: every letter of
    # the Persian, Pashto and Urdu invitations, as often as they hold it, and no other.
    expected = "".join("".join(flyer.invitation(language)) for language in RIGHT_TO_LEFT)
    assert arabic_letters(text) == arabic_letters(expected)
    assert sum(arabic_letters(expected).values()) > 300
    assert flyer.invitation("fa")[0] != flyer.invitation("en")[0]  # really translated


def arabic_letters(text: str) -> Counter[str]:
    return Counter(char for char in text if "\u0600" <= char <= "\u06ff")


def decode(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def test_the_flyer_png_is_an_a4_image_whose_qr_code_opens_the_deep_link(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    channel = await add_channel(sessionmaker, code="uni_Baku-7", languages=["fa", "en", "ur"])
    await sign_in_as("boss", role="supervisor")
    response = await client.get(f"/channels/{channel.id}/flyer.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.verify()
    assert (image.format, image.size) == ("PNG", (1240, 1754))  # A4 at 150 dpi
    assert decode(response.content) == [f"https://t.me/{BOT}?start=uni_Baku-7"]


def test_the_qr_code_holds_the_link_in_both_renderings() -> None:
    link = f"https://t.me/{BOT}?start=" + "A-z_9" * 12 + "abcd"  # the longest code, 64 characters
    page = flyer.layout(link, ["ps"])
    assert decode(flyer.png(page, with_raqm=True)) == [link]
    assert decode(flyer.png(page, with_raqm=False)) == [link]


def test_a_long_invitation_wraps_and_a_page_of_seven_languages_fits() -> None:
    page = flyer.layout(f"https://t.me/{BOT}?start=x", list(LANGUAGES))
    width = flyer.PAGE_WIDTH - 2 * flyer.MARGIN
    assert all(flyer.text_width(line.text, line.language, line.size) <= width for line in page.lines)
    last = page.lines[-1]
    assert last.top + last.height <= flyer.PAGE_HEIGHT - flyer.MARGIN
    assert {line.align for line in page.lines if line.language in RIGHT_TO_LEFT} == {"R"}
    assert {line.align for line in page.lines[1:] if line.language not in RIGHT_TO_LEFT} == {"L"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_character_of_the_invitation_is_in_the_font_of_its_language(language: str) -> None:
    cmap = TTFont(fonts.for_language(language)).getBestCmap()
    text = "".join(flyer.invitation(language))
    # Zero-width non-joiners (Persian) and the like are format characters, never drawn.
    missing = {char for char in text if ord(char) not in cmap and unicodedata.category(char) != "Cf"}
    assert missing == set()


@pytest.mark.parametrize("language", sorted(RIGHT_TO_LEFT))
def test_without_raqm_right_to_left_lines_come_out_as_raqm_draws_them(language: str) -> None:
    """The PNG's way without raqm (HarfBuzz glyphs drawn from their outlines) against Pillow's raqm:
    the same joined, right-aligned words, so their ink nearly coincides."""
    page = flyer.layout(f"https://t.me/{BOT}?start=x", [language])
    with_raqm = Image.open(io.BytesIO(flyer.png(page, with_raqm=True))).point(lambda v: 255 if v < 128 else 0)
    without = Image.open(io.BytesIO(flyer.png(page, with_raqm=False))).point(lambda v: 255 if v < 128 else 0)
    top = round((page.lines[1].top - 1) / 25.4 * flyer.PNG_DPI)
    box = (0, top, with_raqm.width, with_raqm.height)
    inked, other = with_raqm.crop(box), without.crop(box)
    assert inked.getbbox() is not None
    # Right-aligned at the same edge, starting at the same line.
    assert abs(inked.getbbox()[2] - other.getbbox()[2]) <= 2
    assert abs(inked.getbbox()[1] - other.getbbox()[1]) <= 3
    # Ink of either that lies more than a pixel away from the other's: edge rounding only.
    for first, second in ((inked, other), (other, inked)):
        stray = ImageChops.subtract(first, second.filter(ImageFilter.MaxFilter(3))).histogram()[255]
        assert stray < first.histogram()[255] * 0.03, (stray, first.histogram()[255])


def test_codes_follow_the_start_parameter_rule() -> None:
    # Telegram's rule, as the console checks it (programme.channels).
    from programme.channels import valid_code

    assert valid_code("a") and valid_code("A-z_0" * 12 + "abcd")
    assert not valid_code("") and not valid_code("a" * 65) and not valid_code("a b") and not valid_code("é")
    assert not valid_code("bot") and not valid_code("console")
    assert valid_code(secrets.token_urlsafe(6))

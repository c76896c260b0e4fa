"""The feedback page: supervisors read feedback about the service, focal points also complaints
about staff; an answer reaches the person through the outbox in their language; the case's own
caseworker finds none of it on any page, export or figure; everything audited by reference only."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console import casework as work
from programme.feedback import Kind, shown
from programme.retention import RetentionPolicy
from storage import feedback as store
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, OutboxMessage, StaffUser
from storage.sealing import unseal_json
from tests.console.conftest import form_token
from tests.console.test_console_authorization import console_routes, path_for
from wording.feedback import answered

SignIn = Callable[..., Awaitable[StaffUser]]
COMPLAINT = "The caseworker Rashad shouted at me and asked for money."
SERVICE = "Nobody answered the phone for two weeks."
ANONYMOUS = "I am afraid to say this: my caseworker keeps my passport."
WEEK = RetentionPolicy().feedback_answer


async def give(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    case: Case | None,
    kind: Kind,
    text: str,
    overdue: bool = False,
) -> str:
    async with sessionmaker() as session, session.begin():
        person = None
        if case is not None:
            person = await session.get(Beneficiary, case.beneficiary_id)
        feedback = await store.add_feedback(
            session,
            crypto,
            beneficiary=person,
            kind=kind,
            language="ru",
            medium="text",
            body={"text": text},
            urgent=False,
            answer_due=-WEEK if overdue else WEEK,
        )
        return feedback.reference


async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> tuple[StaffUser, Case, dict[str, str]]:
    caseworker = await make_user("rashad", role="caseworker")
    case = await seed_person(assigned_to=caseworker.id, stage="implementation", screening={"city": "Baku"})
    references = {
        "staff": await give(sessionmaker, crypto, case=case, kind=Kind.STAFF, text=COMPLAINT),
        "service": await give(sessionmaker, crypto, case=case, kind=Kind.SERVICE, text=SERVICE, overdue=True),
        "afraid": await give(sessionmaker, crypto, case=None, kind=Kind.AFRAID, text=ANONYMOUS),
    }
    return caseworker, case, references


def listed(response: httpx.Response) -> set[str]:
    page = BeautifulSoup(response.text, "lxml")
    return {str(row["data-reference"]) for row in page.select("main tr[data-reference]")}


async def test_a_supervisor_sees_feedback_about_the_service_and_a_focal_point_the_complaints_too(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    _, _, refs = await world(sessionmaker, crypto, seed_person, make_user)
    me = await sign_in_as("sabina", role="supervisor")
    page = await client.get("/feedback")
    assert page.status_code == 200 and listed(page) == {refs["service"]}
    overdue = BeautifulSoup(page.text, "lxml").select("main tr.feedback-overdue")
    assert [row["data-reference"] for row in overdue] == [refs["service"]]
    assert (await client.get(f"/feedback/{refs['staff']}")).status_code == 404
    assert (await client.get(f"/feedback/{refs['afraid']}")).status_code == 404

    # Named a focal point: the next page shows the complaints too, the anonymous one included.
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, me.id)).focal_point = True  # type: ignore[union-attr]
    assert listed(await client.get("/feedback")) == set(refs.values())
    assert (await client.get(f"/feedback/{refs['afraid']}")).status_code == 200


async def test_a_focal_point_answers_a_complaint_and_the_answer_goes_out_in_the_persons_language(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    _, case, refs = await world(sessionmaker, crypto, seed_person, make_user)
    focal = await sign_in_as("farida", role="supervisor")
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, focal.id)).focal_point = True  # type: ignore[union-attr]
    page = await client.get("/feedback")
    assert listed(page) == set(refs.values())

    item = await client.get(f"/feedback/{refs['staff']}")
    assert item.status_code == 200 and COMPLAINT in item.text and case.code in item.text
    token = form_token(item)
    answer = "We are sorry. A focal point will call you tomorrow; your caseworker will not know."
    sent = await client.post(
        f"/feedback/{refs['staff']}/answer", data={"csrf_token": token, "seen": "0", "text": answer}
    )
    assert sent.status_code == 303
    # The same form again (a double submit): refused, nothing sent twice.
    again = await client.post(
        f"/feedback/{refs['staff']}/answer", data={"csrf_token": token, "seen": "0", "text": answer}
    )
    assert again.status_code == 409
    empty = await client.post(
        f"/feedback/{refs['staff']}/record", data={"csrf_token": token, "seen": "1", "text": "  "}
    )
    assert empty.status_code == 400
    closed = await client.post(
        f"/feedback/{refs['staff']}/status", data={"csrf_token": token, "status": "closed"}
    )
    assert closed.status_code == 303

    async with sessionmaker() as session:
        [row] = (await session.execute(select(OutboxMessage))).scalars().all()
        assert row.beneficiary_id == case.beneficiary_id
        payload = unseal_json(crypto, row, "payload_enc")
        assert payload["text"] == answered(locale="ru", reference=refs["staff"], answer=answer)
        assert "Ответ на ваш отзыв " + shown(refs["staff"]) in payload["text"]
        found = await store.find_by_reference(session, reference=refs["staff"])
        assert found is not None and found.status == "closed" and found.first_answered_at is not None
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action.like("feedback.%"))))
            .scalars()
            .all()
        )
        assert {e.action for e in entries} >= {"feedback.read", "feedback.answered", "feedback.status"}
        assert all(e.object_type == "feedback" for e in entries)
        assert not any(answer in str(e.details) or COMPLAINT in str(e.details) for e in entries)
        case_entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.object_id == case.code)))
            .scalars()
            .all()
        )
        assert not any(e.action.startswith("feedback") for e in case_entries)


async def test_the_cases_own_caseworker_finds_none_of_it_on_any_page_export_or_figure(
    app: Starlette,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    _, case, refs = await world(sessionmaker, crypto, seed_person, make_user)
    # Signed in as the case's own caseworker (a session for the account the case is assigned to).
    me = await sign_in_as("rashad-own", role="caseworker")
    async with sessionmaker() as session, session.begin():
        (await session.get(Case, case.id)).assigned_to = me.id  # type: ignore[union-attr]
    secrets_ = [COMPLAINT, SERVICE, ANONYMOUS, *refs.values(), *(shown(r) for r in refs.values()), "FB-"]
    seen_pages = 0
    for route in console_routes(app):
        if route.method != "GET" or route.name in {"logout", "calendar_feed"}:
            continue
        path = path_for(route, code=case.code, user_id=me.id, channel_id=1, campaign_id=uuid.UUID(int=0))
        response = await client.get(path)
        seen_pages += response.status_code == 200
        body = (
            response.text
            if "text" in response.headers.get("content-type", "")
            else response.content.decode("latin-1")
        )
        leaked = [secret for secret in secrets_ if secret in body]
        assert leaked == [], f"{path}: {leaked}"
    assert seen_pages > 15  # the case's pages did open
    assert (await client.get("/feedback")).status_code == 403
    for variant in ("?format=csv", "?format=xlsx"):
        export = await client.get("/figures/export" + variant)
        assert export.status_code == 403


async def test_an_administrator_names_a_supervisor_a_focal_point_and_only_a_supervisor(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: Callable[..., Awaitable[StaffUser]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    supervisor = await make_user("leyla", role="supervisor")
    caseworker = await make_user("murad", role="caseworker")
    await sign_in_as("admin", role="admin")
    token = form_token(await client.get("/accounts"))
    made = await client.post(
        f"/accounts/{supervisor.id}/focal-point", data={"csrf_token": token, "focal_point": "1"}
    )
    assert made.status_code == 303
    refused = await client.post(
        f"/accounts/{caseworker.id}/focal-point", data={"csrf_token": token, "focal_point": "1"}
    )
    assert refused.status_code == 400
    page = BeautifulSoup((await client.get("/accounts")).text, "lxml")
    assert page.select_one("tr[data-account=leyla] [data-focal-point]") is not None
    async with sessionmaker() as session:
        assert (await session.get(StaffUser, supervisor.id)).focal_point  # type: ignore[union-attr]
        assert not (await session.get(StaffUser, caseworker.id)).focal_point  # type: ignore[union-attr]
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert "staff.focal_point" in actions


async def test_feedback_figures_count_by_kind_and_mask_under_five_also_in_the_export(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    for _ in range(6):
        await give(sessionmaker, crypto, case=None, kind=Kind.SERVICE, text="Long wait.")
    await give(sessionmaker, crypto, case=None, kind=Kind.THANKS, text="Thanks.")
    await give(sessionmaker, crypto, case=None, kind=Kind.STAFF, text=COMPLAINT)
    await sign_in_as("sabina", role="supervisor")  # not a focal point: the complaint is not counted
    page = BeautifulSoup((await client.get("/feedback/figures")).text, "lxml")
    [by_kind, *_] = page.select("main table.figures-table")
    rows = {row.th.get_text(strip=True): row.td.get_text(strip=True) for row in by_kind.select("tr")}
    # One category under 5 would be had by subtracting: the smallest other is masked too.
    assert rows == {"Problem with the service": "<5", "Thank-you or suggestion": "<5", "Total": "7"}
    assert "Complaint about a staff member" not in page.get_text()
    export = await client.get("/feedback/figures/export?format=csv")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    text = export.content.decode("utf-8-sig")
    assert "Thank-you or suggestion,<5" in text and "Problem with the service,<5" in text
    assert "By kind,Total,7" in text
    assert (await client.get("/feedback/figures/export?format=pdf")).status_code == 400


async def test_overdue_feedback_is_announced_on_the_case_list_to_supervisors_only(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await give(sessionmaker, crypto, case=None, kind=Kind.SERVICE, text="Long wait.", overdue=True)
    await give(sessionmaker, crypto, case=None, kind=Kind.STAFF, text=COMPLAINT, overdue=True)
    await sign_in_as("murad", role="caseworker")
    assert BeautifulSoup((await client.get("/cases")).text, "lxml").select("[data-feedback-overdue]") == []
    supervisor = await sign_in_as("sabina", role="supervisor")
    [alert] = BeautifulSoup((await client.get("/cases")).text, "lxml").select("[data-feedback-overdue]")
    assert "1." in alert.get_text()
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, supervisor.id)).focal_point = True  # type: ignore[union-attr]
    [alert] = BeautifulSoup((await client.get("/cases")).text, "lxml").select("[data-feedback-overdue]")
    assert "2." in alert.get_text()


async def test_closing_a_case_asks_the_one_question_once_and_never_after_a_withdrawal(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    supervisor = await make_user("sabina", role="supervisor")
    case = await seed_person(stage="implementation")
    left = await seed_person(code="IP-2026-000101", stage="implementation")

    async def close(target: Case, reason: str) -> None:
        async with sessionmaker() as session, session.begin():
            found = await session.get(Case, target.id)
            assert found is not None
            await work.close(
                session, crypto, case=found, reason=reason, details=None, staff_id=supervisor.id, actor="t"
            )

    await close(case, "other_institution")
    async with sessionmaker() as session, session.begin():
        found = await session.get(Case, case.id)
        assert found is not None
        await work.reopen(session, crypto, case=found, staff_id=supervisor.id, actor="t")
    await close(case, "goals_reached")
    await close(left, "withdrew")
    async with sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert [row.beneficiary_id for row in rows] == [case.beneficiary_id]
        payload = unseal_json(crypto, rows[0], "payload_enc")
        assert payload["text"].startswith("Ваше дело закрыто.")
        buttons = [row[0]["callback_data"] for row in payload["reply_markup"]["inline_keyboard"]]
        assert [data.rsplit(":", 1)[1] for data in buttons] == ["yes", "partly", "no"]


async def test_feedback_is_given_only_to_someone_who_may_read_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    caseworker, _, refs = await world(sessionmaker, crypto, seed_person, make_user)
    colleague = await make_user("leyla", role="supervisor")
    focal = await make_user("farida", role="supervisor")
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, focal.id)).focal_point = True  # type: ignore[union-attr]
    me = await sign_in_as("sabina", role="supervisor")
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, me.id)).focal_point = True  # type: ignore[union-attr]

    def offered(response: httpx.Response) -> set[str]:
        page = BeautifulSoup(response.text, "lxml")
        return {str(option["value"]) for option in page.select("#fb-assign option")}

    # Feedback about the service: any supervisor; a complaint about staff: focal points only.
    item = await client.get(f"/feedback/{refs['service']}")
    assert offered(item) == {str(colleague.id), str(focal.id), str(me.id)}
    complaint = await client.get(f"/feedback/{refs['staff']}")
    assert offered(complaint) == {str(focal.id), str(me.id)}
    token = form_token(complaint)
    for refused in (colleague.id, caseworker.id, 999_999, "x"):
        answer = await client.post(
            f"/feedback/{refs['staff']}/assign", data={"csrf_token": token, "staff_id": str(refused)}
        )
        assert answer.status_code == 400
    given = await client.post(
        f"/feedback/{refs['staff']}/assign", data={"csrf_token": token, "staff_id": str(focal.id)}
    )
    assert given.status_code == 303
    page = BeautifulSoup((await client.get(f"/feedback/{refs['staff']}")).text, "lxml")
    assert page.select_one("[data-assigned]").get_text(strip=True) == "farida"  # type: ignore[union-attr]
    async with sessionmaker() as session:
        found = await store.find_by_reference(session, reference=refs["staff"])
        assert found is not None and found.assigned_to == focal.id and found.status == "in_progress"
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "feedback.assigned")))
            .scalars()
            .all()
        )
        assert [(e.object_id, e.details) for e in entries] == [(refs["staff"], {"to": focal.id})]


async def test_feedback_pages_show_the_case_by_its_code_never_the_persons_name_or_phone(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    seed_person: Callable[..., Awaitable[Case]],
    make_user: Callable[..., Awaitable[StaffUser]],
) -> None:
    _, case, refs = await world(sessionmaker, crypto, seed_person, make_user)
    me = await sign_in_as("sabina", role="supervisor")
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, me.id)).focal_point = True  # type: ignore[union-attr]
    pages = {"list": await client.get("/feedback", params={"status": "all"})}
    for name, reference in refs.items():
        pages[name] = await client.get(f"/feedback/{reference}")
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert case.code in pages["staff"].text  # with the case: by its code
    for page in pages.values():
        assert "Zarina" not in page.text and "Nazarova" not in page.text
        assert "+994501234567" not in page.text and "501234567" not in page.text

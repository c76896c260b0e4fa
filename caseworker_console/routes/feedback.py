"""Feedback and complaints from the people served, for supervisors (feedback about the service) and
focal points (also complaints about staff): the list by status with overdue ones highlighted, one
piece of feedback, answering the person through the outbox, recording what was done, closing.
Everything is audited by the feedback's reference (codes only, never what was written)."""

from __future__ import annotations

import dataclasses

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import exports
from caseworker_console.config import crypto
from caseworker_console.database import database
from caseworker_console.i18n import translated
from caseworker_console.permissions import Permission, feedback_routings
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from programme import figures as rules
from programme.feedback import Kind, Routing, Status, read_reference, shown
from programme.text import N_, NP_, Plural
from storage import feedback as store
from storage.casework import staff_by_id
from storage.models import StaffUser, utcnow
from storage.models_feedback import Feedback
from storage.outbox import Lane, enqueue
from storage.queries import record_audit
from storage.staff import all_users
from wording import feedback as messages
from wording.languages import locale_of

TEXT_MAX = 2000
KIND_LABELS: dict[str, str] = {
    Kind.THANKS: N_("Thank-you or suggestion"),
    Kind.SERVICE: N_("Problem with the service"),
    Kind.STAFF: N_("Complaint about a staff member"),
    Kind.AFRAID: N_("Afraid to tell their caseworker"),
}
STATUS_LABELS: dict[str, str] = {
    Status.NEW: N_("New"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.ANSWERED: N_("Answered"),
    Status.CLOSED: N_("Closed"),
}
MEDIUM_LABELS: dict[str, str] = {
    "voice": N_("A voice message (kept in Telegram; not shown here)"),
    "photo": N_("A photo (kept in Telegram; not shown here)"),
}
TEXT_NEEDED = N_("Write something first. Nothing was saved.")
TEXT_TOO_LONG = NP_(
    "The text is %(num)s character long; at most %(limit)s fit. Nothing was saved.",
    "The text is %(num)s characters long; at most %(limit)s fit. Nothing was saved.",
)
CHANGED = N_("Someone changed this feedback a moment ago. Check it again: nothing was saved.")
LISTS = ("open", *(str(status) for status in Status), "all")


@dataclasses.dataclass(frozen=True)
class Row:
    reference: str
    shown: str
    kind: str
    kind_code: str
    language: str
    status: str
    received: str
    due: str
    due_iso: str
    overdue: bool
    urgent: bool
    anonymous: bool


def _routings(request: Request) -> frozenset[Routing]:
    user = signed_in_user(request)
    return feedback_routings(role=user.role, focal_point=user.focal_point)


def _row(request: Request, feedback: Feedback) -> Row:
    translate = gettext_for(request).gettext
    now = utcnow()
    return Row(
        reference=feedback.reference,
        shown=shown(feedback.reference),
        kind=translate(KIND_LABELS.get(feedback.kind, feedback.kind)),
        kind_code=feedback.kind,
        language=feedback.language or "—",
        status=translate(STATUS_LABELS.get(feedback.status, feedback.status)),
        received=local_time(request, feedback.created_at),
        due=local_time(request, feedback.due_at),
        due_iso=feedback.due_at.isoformat(),
        overdue=feedback.first_answered_at is None
        and feedback.status in (Status.NEW, Status.IN_PROGRESS)
        and feedback.due_at < now,
        urgent=feedback.urgent,
        anonymous=feedback.beneficiary_id is None,
    )


async def feedback_list(request: Request) -> Response:
    db = database(request)
    shown_list = request.query_params.get("status", "open")
    shown_list = shown_list if shown_list in LISTS else "open"
    statuses = {
        "open": [Status.NEW, Status.IN_PROGRESS, Status.ANSWERED],
        "all": None,
    }.get(shown_list, [Status(shown_list)] if shown_list in set(Status) else None)
    routings = _routings(request)
    rows = [
        _row(request, found) for found in await store.feedback_for(db, routings=routings, statuses=statuses)
    ]
    overdue = await store.overdue_count(db, routings=routings, now=utcnow())
    translate = gettext_for(request).gettext
    return pages(request).render(
        request,
        "feedback.html",
        {
            "active": "feedback",
            "rows": rows,
            "overdue": overdue,
            "shown_list": shown_list,
            "lists": [
                ("open", translate("Open")),
                *((str(status), translate(label)) for status, label in STATUS_LABELS.items()),
                ("all", translate("All")),
            ],
        },
    )


async def _found(request: Request) -> Feedback:
    """The path's feedback if the reader may see it; 404 otherwise, as if it did not exist."""
    reference = read_reference(str(request.path_params["reference"]))
    found = (
        None
        if reference is None
        else await store.one_feedback(database(request), reference=reference, routings=_routings(request))
    )
    if found is None:
        raise HTTPException(status_code=404)
    return found


async def _item_page(
    request: Request,
    found: Feedback,
    *,
    error: str | Plural | None = None,
    entered: str = "",
    status_code: int = 200,
) -> Response:
    db = database(request)
    keys = crypto(request)
    translate = gettext_for(request).gettext
    body = store.body_of(keys, found)
    notes = await store.notes_of(db, keys, feedback=found)
    people = {note.staff_user_id for note, _ in notes if note.staff_user_id}
    staff = await staff_by_id(db, ids=sorted(people | {found.assigned_to} - {None}))
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="feedback.read",
        object_type="feedback",
        object_id=found.reference,
        details={},
    )
    await db.commit()
    response = pages(request).render(
        request,
        "feedback_item.html",
        {
            "active": "feedback",
            "row": _row(request, found),
            "status_code_value": found.status,
            "text": body.get("text") or body.get("caption") or "",
            "medium": translate(MEDIUM_LABELS[found.medium]) if found.medium in MEDIUM_LABELS else None,
            "case_code": await store.case_code_of(db, feedback=found),
            "notes": [
                {
                    "answer": note.kind == store.ANSWER,
                    "text": text,
                    "at": local_time(request, note.created_at),
                    "by": _name(staff[note.staff_user_id]) if note.staff_user_id in staff else "—",
                }
                for note, text in notes
            ],
            "seen": len(notes),
            "assigned": _name(staff[found.assigned_to]) if found.assigned_to in staff else None,
            "assignable": [(person.id, _name(person)) for person in await _assignable(request, found)],
            "assigned_id": found.assigned_to,
            "text_max": TEXT_MAX,
            "error": translated(gettext_for(request), error, {"num": len(entered.strip()), "limit": TEXT_MAX})
            if error
            else None,
            "entered": entered,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _name(person: StaffUser) -> str:
    return person.display_name or person.username


async def feedback_item(request: Request) -> Response:
    return await _item_page(request, await _found(request))


async def _written(request: Request, found: Feedback) -> tuple[str, Response | None]:
    """The text posted, or the page again with what is wrong (nothing saved)."""
    form = await request.form()
    raw = form.get("text")
    raw = raw if isinstance(raw, str) else ""
    seen = form.get("seen")
    if not isinstance(seen, str) or seen != str(await store.note_count(database(request), feedback=found)):
        return raw, await _item_page(request, found, error=CHANGED, entered=raw, status_code=409)
    text = raw.strip()
    if not text:
        return raw, await _item_page(request, found, error=TEXT_NEEDED, entered=raw, status_code=400)
    if len(text) > TEXT_MAX:
        return raw, await _item_page(request, found, error=TEXT_TOO_LONG, entered=raw, status_code=400)
    return text, None


async def answer(request: Request) -> Response:
    """Answer the person: in the chat, through the outbox, when they gave it with their case; an
    anonymous person reads it by the reference number in the bot."""
    db = database(request)
    user = signed_in_user(request)
    found = await _found(request)
    text, refused = await _written(request, found)
    if refused is not None:
        return refused
    keys = crypto(request)
    await store.add_note(
        db, keys, feedback=found, kind=store.ANSWER, text=text, staff_id=user.staff_id, actor=user.actor
    )
    if found.beneficiary_id is not None:
        locale = locale_of(await store.language_of(db, feedback=found))
        await enqueue(
            db,
            keys,
            beneficiary_id=found.beneficiary_id,
            text=messages.answered(locale=locale, reference=found.reference, answer=text),
            lane=Lane.REPLY,
        )
    await db.commit()
    return RedirectResponse(_item_path(request, found) + "?answered=1", status_code=303)


async def record(request: Request) -> Response:
    """What was done about it, for its readers only (the person is not told)."""
    db = database(request)
    user = signed_in_user(request)
    found = await _found(request)
    text, refused = await _written(request, found)
    if refused is not None:
        return refused
    await store.add_note(
        db,
        crypto(request),
        feedback=found,
        kind=store.ACTION,
        text=text,
        staff_id=user.staff_id,
        actor=user.actor,
    )
    await db.commit()
    return RedirectResponse(_item_path(request, found), status_code=303)


async def change_status(request: Request) -> Response:
    """Take it in hand, close it, or open it again."""
    db = database(request)
    user = signed_in_user(request)
    found = await _found(request)
    form = await request.form()
    wanted = form.get("status")
    allowed = {str(Status.IN_PROGRESS), str(Status.CLOSED)}
    if wanted not in allowed:
        raise HTTPException(status_code=400)
    if found.status != wanted:
        await store.set_status(
            db, feedback=found, status=Status(str(wanted)), staff_id=user.staff_id, actor=user.actor
        )
        await db.commit()
    return RedirectResponse(_item_path(request, found), status_code=303)


async def _assignable(request: Request, found: Feedback) -> list[StaffUser]:
    """Who may be given it: active accounts that may read its routing (focal points only, for a
    complaint about staff or what someone is afraid to tell their caseworker)."""
    return [
        person
        for person in await all_users(database(request))
        if person.active
        and found.routing in feedback_routings(role=person.role, focal_point=person.focal_point)
    ]


async def assign(request: Request) -> Response:
    """Give it to a supervisor (or focal point) who may read it; anyone else is refused."""
    db = database(request)
    found = await _found(request)
    chosen = (await request.form()).get("staff_id")
    people = {str(person.id): person for person in await _assignable(request, found)}
    if not isinstance(chosen, str) or chosen not in people:
        raise HTTPException(status_code=400)
    person = people[chosen]
    if found.assigned_to != person.id:
        await store.assign(db, feedback=found, staff_id=person.id, actor=signed_in_user(request).actor)
        await db.commit()
    return RedirectResponse(_item_path(request, found), status_code=303)


def _item_path(request: Request, found: Feedback) -> str:
    return request.url_for("feedback_item", reference=found.reference).path


routes = [
    page("/feedback", feedback_list, name="feedback", permission=Permission.FEEDBACK),
    page("/feedback/{reference}", feedback_item, name="feedback_item", permission=Permission.FEEDBACK),
    action("/feedback/{reference}/answer", answer, name="feedback_answer", permission=Permission.FEEDBACK),
    action("/feedback/{reference}/record", record, name="feedback_record", permission=Permission.FEEDBACK),
    action(
        "/feedback/{reference}/status", change_status, name="feedback_status", permission=Permission.FEEDBACK
    ),
    action("/feedback/{reference}/assign", assign, name="feedback_assign", permission=Permission.FEEDBACK),
]


GROUP_TITLES: dict[str, str] = {
    "kind": N_("By kind"),
    "language": N_("By language"),
    "channel": N_("By channel"),
    "month": N_("By month received"),
}


RATING_TITLE = N_("Was the programme helpful? (asked once after a case closed)")
RATING_LABELS: dict[str, str] = {"yes": N_("It helped"), "partly": N_("Partly"), "no": N_("It did not help")}


@dataclasses.dataclass(frozen=True)
class FigureLine:
    label: str
    text: str


@dataclasses.dataclass(frozen=True)
class FigureSection:
    title: str
    lines: list[FigureLine]
    total: str


async def _figures(request: Request) -> tuple[list[FigureSection], str, str]:
    """Counts of the feedback the reader may see, masked under 5 as on the figures page; the
    median days to a first answer (shown from 5 answers)."""
    db = database(request)
    translate = gettext_for(request).gettext
    routings = _routings(request)
    sections = []
    for group, title in GROUP_TITLES.items():
        counts = await store.counts_by(db, routings=routings, group=group)
        cells, total = rules.breakdown(counts)
        labels = KIND_LABELS if group == "kind" else {}
        lines = [
            FigureLine(label=translate(labels[key]) if key in labels else key, text=cell.text)
            for key, cell in sorted(cells.items())
        ]
        sections.append(FigureSection(title=translate(title), lines=lines, total=total.text))
    # The question asked after a case closed: every supervisor's to read (no complaint in it).
    cells, total = rules.breakdown(await store.rating_counts(db))
    lines = [FigureLine(label=translate(RATING_LABELS[key]), text=cell.text) for key, cell in cells.items()]
    sections.append(FigureSection(title=translate(RATING_TITLE), lines=lines, total=total.text))
    waits = sorted(await store.first_answer_times(db, routings=routings))
    answered_count = rules.masked(len(waits))
    median = "—"
    if waits and not answered_count.masked:
        middle = waits[len(waits) // 2]
        median = f"{middle.total_seconds() / 86400:.1f}"
    return sections, answered_count.text, median


async def feedback_figures(request: Request) -> Response:
    sections, answered_count, median = await _figures(request)
    return pages(request).render(
        request,
        "feedback_figures.html",
        {"active": "feedback", "sections": sections, "answered_count": answered_count, "median": median},
    )


async def export_feedback_figures(request: Request) -> Response:
    wanted = request.query_params.get("format", "")
    if wanted not in exports.FORMATS:
        raise HTTPException(status_code=400)
    translate = gettext_for(request).gettext
    sections, answered_count, median = await _figures(request)
    table: list[list[object]] = [[translate("Figure"), translate("Category"), translate("Count")]]
    for section in sections:
        table.extend([section.title, line.label, line.text] for line in section.lines)
        table.append([section.title, translate("Total"), section.total])
    table.append([translate("First answers"), translate("Answered"), answered_count])
    table.append([translate("First answers"), translate(N_("Median days to the first answer")), median])
    db = database(request)
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="feedback.figures_exported",
        object_type="figures",
        object_id=None,
        details={"format": wanted},
    )
    await db.commit()
    content = exports.render(table, file_format=wanted, sheet="feedback")
    return Response(
        content,
        media_type=exports.FORMATS[wanted],
        headers={"Content-Disposition": f'attachment; filename="feedback-{utcnow():%Y%m%d}.{wanted}"'},
    )


routes = [
    page("/feedback/figures", feedback_figures, name="feedback_figures", permission=Permission.FEEDBACK),
    page(
        "/feedback/figures/export",
        export_feedback_figures,
        name="feedback_figures_export",
        permission=Permission.FEEDBACK,
    ),
    *routes,
]

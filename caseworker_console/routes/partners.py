"""The partner directory: organisations by service area, with address, languages and contact.
Caseworkers read it to refer; supervisors keep it (add, correct, retire); changes are audited."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import func, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import action, page, saved, signed_in_user
from caseworker_console.templating import gettext_for, pages
from programme.assessment import CONSENT_LANGUAGES
from programme.forms import SERVICE_AREAS
from programme.text import N_
from storage.models_figures import Partner
from storage.queries import record_audit

NAME_MAX, ADDRESS_MAX, CONTACT_MAX = 120, 300, 200
AREAS = {option.value: option.label for option in SERVICE_AREAS}
LANGUAGE_CODES = tuple(option.value for option in CONSENT_LANGUAGES)
NAME_NEEDED = N_("Give the partner's name (up to 120 characters).")
NAME_TAKEN = N_("A partner with this name is already in the directory.")
AREA_NEEDED = N_("Choose the partner's service area.")
TOO_LONG = N_("The address or contact is too long.")
NOT_FOUND = N_("This partner is not in the directory.")


@dataclasses.dataclass(frozen=True)
class PartnerView:
    id: int
    name: str
    area: str
    area_code: str
    address: str
    languages: list[str]
    language_codes: list[str]
    contact: str
    active: bool


def _view(partner: Partner, translate: Any) -> PartnerView:
    names = {option.value: option.label for option in CONSENT_LANGUAGES}
    return PartnerView(
        id=partner.id,
        name=partner.name,
        area=translate.gettext(AREAS[partner.service_area]) if partner.service_area in AREAS else "",
        area_code=partner.service_area,
        address=partner.address,
        languages=[names.get(code, code) for code in partner.languages or []],
        language_codes=list(partner.languages or []),
        contact=partner.contact,
        active=partner.active,
    )


async def render(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    failed: str | None = None,
    editing: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    user = signed_in_user(request)
    translate = gettext_for(request)
    manage = allows(user.role, Permission.PARTNERS_MANAGE)
    area = request.query_params.get("area", "")
    statement = select(Partner).order_by(Partner.service_area, func.lower(Partner.name))
    if area in AREAS:
        statement = statement.where(Partner.service_area == area)
    if not manage:
        statement = statement.where(Partner.active.is_(True))
    found = [_view(partner, translate) for partner in (await db.execute(statement)).scalars()]
    editing = editing or request.query_params.get("edit", "")
    edited = next((partner for partner in found if str(partner.id) == editing), None) if manage else None
    areas = [(value, translate.gettext(label)) for value, label in AREAS.items()]
    return pages(request).render(
        request,
        "partners.html",
        {
            "active": "partners",
            "partners": found,
            "areas": areas,
            "area": area if area in AREAS else "",
            "manage": manage,
            "edited": edited,
            "values": values or {},
            "failed": failed,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "languages": [(option.value, option.label) for option in CONSENT_LANGUAGES],
        },
        status_code=status_code,
    )


async def partners_page(request: Request) -> Response:
    return await render(request)


def _read(form: FormData) -> tuple[dict[str, Any], str | None]:
    values = {
        "name": " ".join(str(form.get("name", "")).split()),
        "service_area": str(form.get("service_area", "")),
        "address": str(form.get("address", "")).strip(),
        "contact": str(form.get("contact", "")).strip(),
        "languages": [code for code in LANGUAGE_CODES if code in form.getlist("languages")],
    }
    if not values["name"] or len(values["name"]) > NAME_MAX:
        return values, NAME_NEEDED
    if values["service_area"] not in AREAS:
        return values, AREA_NEEDED
    if len(values["address"]) > ADDRESS_MAX or len(values["contact"]) > CONTACT_MAX:
        return values, TOO_LONG
    return values, None


async def _name_taken(request: Request, name: str, *, other_than: int | None) -> bool:
    statement = select(Partner.id).where(func.lower(Partner.name) == name.lower())
    if other_than is not None:
        statement = statement.where(Partner.id != other_than)
    return (await database(request).execute(statement)).first() is not None


async def add_partner(request: Request) -> Response:
    db = database(request)
    values, error = _read(await request.form())
    if error is None and await _name_taken(request, values["name"], other_than=None):
        error = NAME_TAKEN
    if error is not None:
        return await render(request, values=values, error=error, failed="add", status_code=400)
    partner = Partner(**values)
    db.add(partner)
    await db.flush()
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="partner.added",
        object_type="partner",
        object_id=str(partner.id),
        details={"service_area": partner.service_area},
    )
    await db.commit()
    return saved(request, "partners")


async def update_partner(request: Request) -> Response:
    db = database(request)
    form = await request.form()
    raw_id = str(form.get("partner", ""))
    partner = await db.get(Partner, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
    if partner is None:
        return await render(request, error=NOT_FOUND, status_code=400)
    values, error = _read(form)
    if error is None and await _name_taken(request, values["name"], other_than=partner.id):
        error = NAME_TAKEN
    if error is not None:
        return await render(
            request, values=values, error=error, failed="edit", editing=str(partner.id), status_code=400
        )
    for key, value in values.items():
        setattr(partner, key, value)
    partner.active = form.get("active") == "1"
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="partner.changed",
        object_type="partner",
        object_id=str(partner.id),
        details={"service_area": partner.service_area, "active": partner.active},
    )
    await db.commit()
    return saved(request, "partners")


routes = [
    page("/partners", partners_page, name="partners", permission=Permission.PARTNERS),
    action("/partners", add_partner, name="partners_add", permission=Permission.PARTNERS_MANAGE),
    action("/partners/update", update_partner, name="partners_update", permission=Permission.PARTNERS_MANAGE),
]

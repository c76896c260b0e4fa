"""PDF downloads: Annex 1, the consent form (Annex 4) in the beneficiary's language for signature,
and the integration plan with its signature lines.

Each download is a view of personal data: audited like opening the tab, never cached (the
security headers say no-store for every page). None carries the beneficiary's name or phone: the
paper leaves a line for the person to write their name.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import formview, i18n
from caseworker_console.casetabs import audit_view
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.pdf import Document, plain
from caseworker_console.permissions import Permission
from caseworker_console.routes.consent import organisation_consent_text
from caseworker_console.routes.plan import plan_access, plan_views
from caseworker_console.routes.plan import render as render_plan
from caseworker_console.routing import identity_shown, page, request_case
from caseworker_console.templating import gettext_for
from caseworker_console.viewmodels.plan import Access, Agreement
from programme import consent
from programme.assessment import INITIAL_ASSESSMENT, INITIAL_ASSESSMENT_SECTIONS
from storage import casework
from wording.languages import LANGUAGES as BOT_LANGUAGES
from wording.languages import RIGHT_TO_LEFT, bot_catalog

PDF = "application/pdf"


async def pdf_response(document: Document, filename: str) -> Response:
    # Subsetting the fonts is the slow part: off the event loop. The filename is the case code and
    # the document's kind, nothing about the person.
    return Response(
        await run_in_threadpool(document.output),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def assessment_pdf(request: Request) -> Response:
    """Annex 1 as last saved, in the reader's language; questions not yet answered get a line."""
    db = database(request)
    case = request_case(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    latest = await casework.latest_answers(
        db, crypto(request), case_id=case.id, form_ids=(INITIAL_ASSESSMENT.id,)
    )
    saved = latest.get(INITIAL_ASSESSMENT.id)
    answers = saved[1] if saved else {}
    title = translate.gettext(INITIAL_ASSESSMENT.title)
    document = Document(title=f"{title} · {case.code}", language=locale)
    document.title(title)
    document.paragraph(translate.gettext("Case %(code)s") % {"code": case.code}, size=11)
    if saved is not None:
        zone = config(request).timezone
        when = i18n.format_local_datetime(saved[0].created_at, locale=locale, timezone=zone)
        filled = translate.gettext("Filled in by %(name)s, %(when)s.")
        document.note(filled % {"name": str(answers.get("_caseworker_name") or "—"), "when": when})
    questions = {question.id: question for question in INITIAL_ASSESSMENT.questions}
    identity = identity_shown(request)
    for section in INITIAL_ASSESSMENT_SECTIONS:
        document.heading(translate.gettext(section.title))
        for question_id in section.question_ids:
            question = questions[question_id]
            value = answers.get(question_id)
            text = (
                formview.answer_text(question, value, translate, identity=identity)
                if value not in (None, "", [])
                else None
            )
            document.pair(translate.gettext(question.prompt), text)
    document.signature(translate.gettext("Caseworker's signature"), translate.gettext("Date"))
    await audit_view(request, "initial_assessment_pdf")
    await db.commit()
    return await pdf_response(document, f"{case.code}-annex-1.pdf")


def consent_language(request: Request) -> str:
    """The beneficiary's language, or another of the bot's when the caseworker asks for it."""
    asked = request.query_params.get("language")
    if asked in BOT_LANGUAGES:
        return str(asked)
    language = request_case(request).language
    return language if language in BOT_LANGUAGES else "en"


async def consent_pdf(request: Request) -> Response:
    """Annex 4 for signature: the text the bot shows (same organisation, same version), the three
    choices with boxes to tick, and lines for the name, signature and date, all in one language."""
    case = request_case(request)
    language = consent_language(request)
    words = bot_catalog(language)
    say = words.gettext
    rendered, version = await organisation_consent_text(request, language)
    text = plain(rendered)
    heading, _, body = text.partition("\n\n")
    document = Document(title=f"{heading} · {case.code}", language=language, rtl=language in RIGHT_TO_LEFT)
    document.title(heading)
    document.paragraph(say("Case number: {code}").format(code=case.code), size=11)
    for paragraph in body.split("\n\n"):
        document.paragraph(paragraph)
    yes_no = [say("Yes"), say("No")]
    document.heading(plain(say(consent.CASEWORK_QUESTION)))
    document.choices(yes_no)
    document.heading(plain(say(consent.PUBLICITY_QUESTION)))
    document.choices([say(level.label) for level in consent.PUBLICITY_LEVELS])
    document.heading(plain(say(consent.THIRD_PARTY_QUESTION)))
    document.choices(yes_no)
    document.pair(say(consent.PAPER_NAME), None)
    if case.guardian_consent_needed:
        document.pair(say(consent.PAPER_GUARDIAN), None)
    document.signature(say(consent.PAPER_SIGNATURE), say(consent.PAPER_DATE))
    document.note(say(consent.PAPER_VERSION).format(version=version))
    await audit_view(request, "consent_pdf")
    await database(request).commit()
    return await pdf_response(document, f"{case.code}-annex-4-{language}.pdf")


async def plan_pdf(request: Request) -> Response:
    """The plan as agreed, for the beneficiary and the caseworker to sign."""
    case = request_case(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    access, _ = await plan_access(request)
    if access is Access.LOCKED:
        # Nothing of the person to show: the tab's page says why the plan is not open yet.
        return await render_plan(request, status_code=409)
    needs, reviews = await plan_views(request)
    title = translate.gettext("Integration plan")
    document = Document(title=f"{title} · {case.code}", language=locale)
    document.title(title)
    document.paragraph(translate.gettext("Case %(code)s") % {"code": case.code}, size=11)

    def agreed(agreement: Agreement) -> str:
        if agreement.how:
            said = translate.gettext("Agreed with the beneficiary (%(how)s); recorded by %(name)s, %(when)s.")
            return said % {"how": agreement.how, "name": agreement.by or "—", "when": agreement.at}
        said = translate.gettext("Agreed with the beneficiary; recorded by %(name)s, %(when)s.")
        return said % {"name": agreement.by or "—", "when": agreement.at}

    if not needs:
        document.paragraph(translate.gettext("No needs have been added to the plan yet."))
    for need in needs:
        document.heading(f"{need.rank}. {need.text}")
        document.note(agreed(need.agreement))
        for goal in need.goals:
            document.paragraph(f"{goal.term}: {goal.text}", size=11)
            document.note(agreed(goal.agreement))
            for activity in goal.activities:
                facts = [
                    activity.area,
                    f"{translate.gettext('Due')}: {activity.due or '—'}",
                    f"{translate.gettext('Who takes part')}: {activity.who or '—'}",
                    f"{translate.gettext('Status')}: {activity.status}",
                ]
                document.paragraph(f"• {activity.text}")
                document.note(" · ".join(facts))
    document.heading(translate.gettext("Progress reviews"))
    if not reviews:
        document.paragraph(translate.gettext("No progress review has been recorded yet."))
    for review in reviews:
        document.paragraph(f"{review.on}: {review.note}")
        document.note(agreed(review.agreement))
    document.signature(translate.gettext("Beneficiary's signature"), translate.gettext("Date"))
    document.signature(translate.gettext("Caseworker's signature"), translate.gettext("Date"))
    await audit_view(request, "plan_pdf")
    await database(request).commit()
    return await pdf_response(document, f"{case.code}-plan.pdf")


routes = [
    page(
        "/cases/{code}/assessment.pdf",
        assessment_pdf,
        name="case_assessment_pdf",
        permission=Permission.CASE_READ,
    ),
    page("/cases/{code}/consent.pdf", consent_pdf, name="case_consent_pdf", permission=Permission.CASE_READ),
    page("/cases/{code}/plan.pdf", plan_pdf, name="case_plan_pdf", permission=Permission.CASE_READ),
]

"""The mutants `make mutate` leaves alive that no test can kill: each named, with why.

A mutant is equivalent when no input tells it from the code as written: the program behaves the
same. Each entry names the function or class the line is in, the line as it is and as the mutant has
it (stripped), and the reason. `make mutate` counts a survivor that matches an entry as equivalent,
prints the entry beside it, and prints any entry no survivor matched: a test kills that mutant now
(it was not equivalent after all) or the line has changed, and the entry goes.

A mutant that only changes the operator of a type annotation is equivalent without an entry here
(`bench.mutate.in_annotation`): under `from __future__ import annotations` no annotation is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Equivalent:
    within: str  # the function, class or `Class.method` whose lines hold it
    before: str
    after: str
    why: str


# Reasons that hold wherever the same kind of mutant survives.
SLOTS = (
    "slots only changes how the instance is stored: a frozen dataclass refuses a new attribute "
    "and a changed one either way"
)
KEYWORD_ONLY = (
    "every caller names the arguments after it, so keyword-only or positional-only reads the same calls"
)
MEMBER_IDENTITY = (
    "the values compared are enum members (or True, False, None), each one object: `is` and `==` "
    "agree on them"
)
LIMITED = "a batch is read with LIMIT batch_size: it never holds more rows"
CLOSED_SORTS_FIRST = (
    'as text "closed" sorts before every other stage, so `<=` "closed" holds for "closed" alone, '
    'and `>` "closed" for every other stage'
)

# Long lines of storage/rotation.py, as they are.
_ROTATE = "sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, *, batch_size: int = 500"
_REFRESH = (
    "sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, model: type[Base], *, batch_size: int"
)
_STALE = "and (not crypto.is_current(blob) or (owned and blob[:1] == FORMAT_VERSION and _has_owner(row)))"

_SIDE = (
    "moment for moment in moments if moment > at and quiet.contains(moment.astimezone(zone)) is quiet_then"
)
_DAYS = (
    "_local_at(today + dt.timedelta(days=n), second, zone, fold=fold) for n in range(3) for fold in (0, 1)"
)
_SECOND = "second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6"
_CLOSED = 'closed = await _closed_at(session, [case.id for case in cases if case.stage == "closed"])'


def _identity(within: str, before: str, after: str) -> Equivalent:
    return Equivalent(within, before, after, MEMBER_IDENTITY)


EQUIVALENT: dict[str, tuple[Equivalent, ...]] = {
    "programme/cycle.py": (
        Equivalent(
            "CaseFacts",
            "@dataclasses.dataclass(frozen=True, slots=True)",
            "@dataclasses.dataclass(frozen=True, slots=False)",
            SLOTS,
        ),
        _identity("check_advance", "if facts.stage is Stage.CLOSED:", "if facts.stage == Stage.CLOSED:"),
        _identity("check_advance", "if target is Stage.CLOSED:", "if target == Stage.CLOSED:"),
        _identity(
            "check_advance",
            "if next_stage(facts.stage) is not target:",
            "if next_stage(facts.stage) != target:",
        ),
        _identity(
            "check_advance",
            "if target is Stage.INITIAL_ASSESSMENT and facts.confirmed_eligible is not True:",
            "if target == Stage.INITIAL_ASSESSMENT and facts.confirmed_eligible is not True:",
        ),
        _identity(
            "check_advance",
            "if target is Stage.INITIAL_ASSESSMENT and facts.confirmed_eligible is not True:",
            "if target is Stage.INITIAL_ASSESSMENT and facts.confirmed_eligible != True:",
        ),
        _identity(
            "check_advance",
            "if target is Stage.INTERVENTION_PLANNING and not facts.has_casework_consent:",
            "if target == Stage.INTERVENTION_PLANNING and not facts.has_casework_consent:",
        ),
        _identity("check_close", "if facts.stage is Stage.CLOSED:", "if facts.stage == Stage.CLOSED:"),
        _identity("reopen_stage", "if facts.stage is not Stage.CLOSED:", "if facts.stage != Stage.CLOSED:"),
        Equivalent(
            "check_advance",
            "if facts.stage is Stage.CLOSED:",
            "if facts.stage <= Stage.CLOSED:",
            CLOSED_SORTS_FIRST,
        ),
        Equivalent(
            "check_advance", "if target is Stage.CLOSED:", "if target <= Stage.CLOSED:", CLOSED_SORTS_FIRST
        ),
        Equivalent(
            "check_close",
            "if facts.stage is Stage.CLOSED:",
            "if facts.stage <= Stage.CLOSED:",
            CLOSED_SORTS_FIRST,
        ),
        Equivalent(
            "reopen_stage",
            "if facts.stage is not Stage.CLOSED:",
            "if facts.stage > Stage.CLOSED:",
            CLOSED_SORTS_FIRST,
        ),
    ),
    "outreach/sender.py": (
        Equivalent(
            "Sender._drop",
            "def _drop(self, delivery: Delivery, reason: str, *, attempted: bool = False) -> None:",
            "def _drop(self, delivery: Delivery, reason: str, /, attempted: bool = False) -> None:",
            KEYWORD_ONLY,
        ),
        *(
            Equivalent(
                "Sender._sort_out",
                "ready_at = self._chat_ready_at.get(delivery.chat_id, 0.0)",
                f"ready_at = self._chat_ready_at.get(delivery.chat_id, {default})",
                "the monotonic clock counts from the machine's start, long past one second: a chat never "
                "sent to is ready either way",
            )
            for default in ("1.0", "-1.0")
        ),
        Equivalent(
            "Sender._sort_out",
            "if delivery.skip == WITHDRAWN and delivery.lane == Lane.REMINDER:",
            "if delivery.skip is WITHDRAWN and delivery.lane == Lane.REMINDER:",
            "a withdrawn person's delivery is given the WITHDRAWN constant itself (Sender._delivery)",
        ),
        Equivalent(
            "Sender._stopped",
            "if delivery.lane == Lane.REMINDER:",
            "if delivery.lane <= Lane.REMINDER:",
            "replies have no window, so only a reminder or a broadcast gets here, and a broadcast's lane "
            "is above a reminder's",
        ),
        Equivalent(
            "Sender._drop",
            "if delivery.window is not None and delivery.window.reminder_id is not None:",
            "if delivery.window is not None or delivery.window.reminder_id is not None:",
            "only reminders are dropped and every reminder's row has a window (windows_of gives each one); "
            "a row naming no reminder adds (None, reason), and `IN (NULL)` updates no reminder",
        ),
        Equivalent(
            "Sender._sort_out",
            "wait = max(ready_at - now, PER_CHAT_INTERVAL if busy else 0.0)",
            "wait = max(ready_at - now, PER_CHAT_INTERVAL if busy else -1.0)",
            "a chat neither busy nor ahead of its time is here only when it was deferred earlier in the "
            "round, and then the time set then is kept (setdefault): this wait is not used",
        ),
        Equivalent(
            "Sender._sort_out",
            "if delivery.skip == WITHDRAWN and delivery.lane == Lane.REMINDER:",
            "if delivery.skip == WITHDRAWN and delivery.lane <= Lane.REMINDER:",
            "only broadcasts and reminders are marked withdrawn (replies still go), and a broadcast's "
            "lane is above a reminder's",
        ),
        Equivalent(
            "Sender._stopped",
            "elif window.stopped == CampaignStatus.PAUSED:",
            "elif window.stopped >= CampaignStatus.PAUSED:",
            'a campaign\'s window is stopped only by "paused" or "cancelled", which sorts before it',
        ),
        Equivalent(
            "Sender._in_window",
            "return at == now",
            "return at is now",
            "Window.place returns `now` itself when it may go now (next_allowed returns the moment it "
            "was given, never an equal copy): equal is the same object",
        ),
        *(
            Equivalent(
                "Sender._in_window",
                before,
                after,
                "Window.place never returns a time before `now` (next_allowed moves a time only later, "
                "the hour the clocks go back included), and an equal one is `now` itself",
            )
            for before, after in (
                ("elif at > now:", "elif at is not now:"),
                ("elif at > now:", "elif at != now:"),
                ("return at == now", "return at <= now"),
            )
        ),
    ),
    "programme/eligibility.py": (
        Equivalent(
            "EligibilityRule",
            "@dataclass(frozen=True, slots=True)",
            "@dataclass(frozen=True, slots=False)",
            SLOTS,
        ),
    ),
    "programme/consent.py": (
        Equivalent("rendered", "*,", "/,", KEYWORD_ONLY),
        Equivalent(
            "data_protection",
            "gettext: Gettext, ngettext: Ngettext, *, controller: str, contact: str, "
            "retention: RetentionPolicy",
            "gettext: Gettext, ngettext: Ngettext, /, controller: str, contact: str, "
            "retention: RetentionPolicy",
            KEYWORD_ONLY,
        ),
        Equivalent(
            "period",
            "if days >= 365 and days % 365 == 0:",
            "if days >= 364 and days % 365 == 0:",
            "no multiple of 365 lies between 364 and 365, and 0 is left out either way",
        ),
        Equivalent(
            "period",
            "if days >= 365 and days % 365 == 0:",
            "if days >= 365 and days % 365 <= 0:",
            "a remainder by 365 is never negative in Python",
        ),
    ),
    "bot/conversation.py": (
        Equivalent(
            "Conversation.buttons",
            "token = secrets.token_urlsafe(6)",
            "token = secrets.token_urlsafe(7)",
            "a longer token is as hard to guess, and every button's data still fits Telegram's 64 bytes "
            "(tap_data refuses more)",
        ),
    ),
    "programme/figures.py": (
        Equivalent(
            "Cell",
            "@dataclasses.dataclass(frozen=True, slots=True)",
            "@dataclasses.dataclass(frozen=True, slots=False)",
            SLOTS,
        ),
        *(
            Equivalent(
                "share",
                "if part.masked or whole.masked or whole.value == 0:",
                f"if part.masked or whole.masked or whole.value {after}:",
                "a whole that is not masked is at least the smallest cell shown (five): once "
                "`whole.masked` is asked, the guard against a zero whole decides nothing",
            )
            for after in ("< 0", "<= 0", "== 1", "== -1")
        ),
    ),
    "outreach/windows.py": (
        Equivalent(
            "Window",
            "@dataclasses.dataclass(frozen=True, slots=True)",
            "@dataclasses.dataclass(frozen=True, slots=False)",
            SLOTS,
        ),
    ),
    "programme/reminders.py": (
        Equivalent(
            "QuietHours", "@dataclass(frozen=True, slots=True)", "@dataclass(frozen=True, slots=False)", SLOTS
        ),
        Equivalent(
            "ReminderPolicy",
            "@dataclass(frozen=True, slots=True)",
            "@dataclass(frozen=True, slots=False)",
            SLOTS,
        ),
        Equivalent(
            "due_times",
            "policy: ReminderPolicy, *, starts_at: dt.datetime, zone: zoneinfo.ZoneInfo, now: dt.datetime",
            "policy: ReminderPolicy, /, starts_at: dt.datetime, zone: zoneinfo.ZoneInfo, now: dt.datetime",
            KEYWORD_ONLY,
        ),
        Equivalent(
            "due_times",
            "planned.setdefault(due, int(offset.total_seconds() // 60))",
            "planned.setdefault(due, int(offset.total_seconds() / 60))",
            "an offset is a whole number of minutes (parse_offsets reads only d, h and m): the same integer",
        ),
        Equivalent(
            "due_times",
            "if due > now and due < starts_at:",
            "if due > now and due != starts_at:",
            "a due time is the start less an offset that is never negative, and quiet hours only move "
            "it earlier: it is never after the start",
        ),
        Equivalent(
            "QuietHours.end_after",
            "if end <= local:",
            "if end < local:",
            "a moment inside the quiet hours is never at their end, which is outside them",
        ),
        Equivalent(
            "QuietHours.end_after",
            "return ends if ends > moment else end.replace(fold=1).astimezone(dt.UTC)",
            "return ends if ends >= moment else end.replace(fold=1).astimezone(dt.UTC)",
            "a moment inside the quiet hours is never at their end, which is outside them",
        ),
    ),
    "storage/rotation.py": (
        *(
            Equivalent(
                "_rewrap_keys",
                before,
                after,
                "every key a batch reads is rewrapped in the same transaction and no longer matches "
                "`stale`: where the next batch starts only spares the database reading past them",
            )
            for before, afters in (
                (
                    "last_id = rows[-1].id",
                    ("rows[1]", "rows[+1]", "rows[~1]", "rows[-2]", "rows[-0]", "rows[not 1]"),
                ),
                (
                    "statement = statement.where(_KEYS.c.id > last_id)",
                    ("_KEYS.c.id >= last_id", "_KEYS.c.id != last_id", "_KEYS.c.id is not last_id"),
                ),
            )
            for after in (
                before.replace("rows[-1]", afters_one).replace("_KEYS.c.id > last_id", afters_one)
                for afters_one in afters
            )
        ),
        *(
            Equivalent(within, "if len(rows) < batch_size:", "if len(rows) != batch_size:", LIMITED)
            for within in ("_rewrap_keys", "_refresh_hashes", "rotate_keys")
        ),
        Equivalent("rotate_keys", _ROTATE, _ROTATE.replace("*,", "/,"), KEYWORD_ONLY),
        Equivalent(
            "_rewrap_keys",
            "sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, *, batch_size: int",
            "sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, /, batch_size: int",
            KEYWORD_ONLY,
        ),
        Equivalent("_refresh_hashes", _REFRESH, _REFRESH.replace("*,", "/,"), KEYWORD_ONLY),
        *(
            Equivalent(
                "rotate_keys",
                _ROTATE,
                _ROTATE.replace("= 500", f"= {size}"),
                "the default batch's size decides how many rows a transaction holds, not which rows are "
                "rewritten or what the report counts",
            )
            for size in (499, 501)
        ),
        Equivalent(
            "rotate_keys", "if model is PersonKey:", "if model == PersonKey:", "a model class is one object"
        ),
        *(
            Equivalent(
                "_hold_owners",
                before,
                before.replace("rows[0]", "rows[-1]"),
                "a batch's rows are all of one model: the first and the last have the same owner column",
            )
            for before in ("if not rows or rows[0].__owner__ is None:", 'if rows[0].__owner__ == "case_id":')
        ),
        *(
            Equivalent(
                "_stale_columns",
                _STALE,
                _STALE.replace("==", operator),
                "a row is read only with a value under a master key (`_may_need_work`), and a row about a "
                "person with one is resealed anyway: sealing its values already under their key again "
                "(what also taking the person key's format, 0x02, or every format does) changes nothing read",
            )
            for operator in (">=", "<=", "is not")
        ),
        Equivalent(
            "_may_need_work",
            "under_master = func.substr(column, 1, 1) == FORMAT_VERSION",
            "under_master = func.substr(column, 1, 1) <= FORMAT_VERSION",
            "no sealed value has a format byte below the master key's (0x01); a person key's is 0x02",
        ),
    ),
    "storage/erasure.py": (
        Equivalent("erase_person", "*,", "/,", KEYWORD_ONLY),
        Equivalent("erase_people", "*,", "/,", KEYWORD_ONLY),
        Equivalent(
            "_people",
            'return bindparam("people", expanding=True)',
            'return bindparam("people", expanding=False)',
            "`in_()` makes the bound parameter it is given expanding itself",
        ),
        Equivalent(
            "_by_hash",
            "return delete(table).where(table.c.chat_hash.in_(bindparam(hashes, expanding=True)))",
            "return delete(table).where(table.c.chat_hash.in_(bindparam(hashes, expanding=False)))",
            "`in_()` makes the bound parameter it is given expanding itself",
        ),
        *(
            Equivalent(
                "has_erased_anyone",
                before,
                before.replace(".limit(1)", ".limit(2)"),
                "`.first()` reads one row whatever the limit: whether there is one is what is asked",
            )
            for before in (
                "tombstone = (await session.execute(select(CaseTombstone.code).limit(1))).first()",
                'statement = select(AuditEntry.id).where(AuditEntry.action == "beneficiary.erased").limit(1)',
            )
        ),
        *(
            Equivalent(
                "erase_people",
                _CLOSED,
                _CLOSED.replace("==", operator),
                why,
            )
            for operator, why in (
                ("<=", 'no stage sorts before "closed" as text'),
                (
                    ">=",
                    "an open case has no standing closing (reopening stamps it), so asking for its "
                    "closing date finds none",
                ),
            )
        ),
    ),
    "outreach/campaigns.py": (
        Equivalent(
            "_first_after",
            "at: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours, second: int, *, quiet_then: bool",
            "at: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours, second: int, /, quiet_then: bool",
            KEYWORD_ONLY,
        ),
        Equivalent(
            "_clock_change",
            "while high - low > 1:",
            "while high % low > 1:",
            "two moments less than a day apart, some 1.7 billion seconds after 1970: the remainder of "
            "the later by the earlier is their difference",
        ),
        Equivalent(
            "_local_at",
            "def _local_at(day: dt.date, second: int, zone: zoneinfo.ZoneInfo, *, fold: int) -> dt.datetime:",
            "def _local_at(day: dt.date, second: int, zone: zoneinfo.ZoneInfo, /, fold: int) -> dt.datetime:",
            KEYWORD_ONLY,
        ),
        Equivalent(
            "_first_after",
            _SIDE,
            _SIDE.replace("moment > at", "moment >= at"),
            "`at` is inside the quiet hours when their end is asked for and outside when their start is: "
            "a moment on the side asked for is never `at` itself",
        ),
        Equivalent(
            "_first_after",
            _DAYS,
            _DAYS.replace("range(3)", "range(4)"),
            "quiet hours begin and end within three days of any moment (a day the clocks skip them "
            "whole is followed by one that has them): a fourth day's moments come after the first found",
        ),
        *(
            Equivalent(
                "_clock_change",
                line,
                line.replace("== before", "is before"),
                "zoneinfo hands out the one timedelta it keeps for each of a zone's offsets",
            )
            for line in (
                "low, high = (middle, high) if offset(middle) == before else (low, middle)",
                "if offset(high) == before:",
            )
        ),
        Equivalent(
            "_clock_change",
            "while high - low > 1:",
            "while high - low != 1:",
            "low stays below high while it runs: their difference comes down to 1, never past it",
        ),
        _identity("_first_after", _SIDE, _SIDE.replace("is quiet_then", "== quiet_then")),
        Equivalent(
            "_first_after",
            _SIDE,
            _SIDE.replace("is quiet_then", "<= quiet_then"),
            "asked for their end, `<= False` is `is False`; asked for their start, a moment outside "
            "them taken for one ends the timeline's window where the next begins (next_allowed lets "
            "it go): no time is skipped, and none lands in them",
        ),
        *(
            Equivalent(
                "_first_after",
                "if (change := _clock_change(at, moments[-1], zone)) is not None:",
                f"if (change := _clock_change(at, moments[{index}], zone)) is not None:",
                "the last two moments are the same time of the third day on either pass of an hour "
                "the clocks go back: a change between them comes after a moment of the days before "
                "that is on the side asked for",
            )
            for index in ("-2", "~1")
        ),
        *(
            Equivalent(
                "QuietHours.contains",
                _SECOND,
                _SECOND.replace(before, after),
                "quiet hours begin and end on a whole minute (the campaign form's and the settings' "
                "HH:MM), and the seconds and their fraction, either way, only move a time within its "
                "minute",
            )
            for before, after in (
                ("local.second + local.microsecond", "local.second * local.microsecond"),
                ("/ 1e6", "/ 1000001.0"),
                ("/ 1e6", "// 1e6"),
            )
        ),
        Equivalent(
            "Timeline.__init__",
            "self._quiet = quiet if quiet is not None and quiet.start != quiet.end else None",
            "self._quiet = quiet if quiet is not None and quiet.start is not quiet.end else None",
            "empty quiet hours (start and end the same) kept are never in effect: next_allowed lets "
            "every moment go, so each window the timeline finds ends where it began and takes no time",
        ),
    ),
    "caseworker_console/viewmodels/plan.py": (
        Equivalent(
            "access_of",
            "def access_of(stage: str, *, consent: bool) -> tuple[Access, str | None]:",
            "def access_of(stage: str, /, consent: bool) -> tuple[Access, str | None]:",
            KEYWORD_ONLY,
        ),
        _identity("access_of", "if known is Stage.CLOSED:", "if known == Stage.CLOSED:"),
        Equivalent("access_of", "if known is Stage.CLOSED:", "if known <= Stage.CLOSED:", CLOSED_SORTS_FIRST),
    ),
    "storage/casework.py": (
        Equivalent(
            "has_casework_consent",
            "async def has_casework_consent(session: AsyncSession, *, case_id: uuid.UUID) -> bool:",
            "async def has_casework_consent(session: AsyncSession, /, case_id: uuid.UUID) -> bool:",
            KEYWORD_ONLY,
        ),
    ),
    "storage/journey.py": (
        Equivalent("record_consent", "*,", "/,", KEYWORD_ONLY),
        Equivalent(
            "current_consent",
            "async def current_consent(session: AsyncSession, *, case_id: uuid.UUID) -> Consent | None:",
            "async def current_consent(session: AsyncSession, /, case_id: uuid.UUID) -> Consent | None:",
            KEYWORD_ONLY,
        ),
    ),
}

"""Opening hours per weekday as a person reads them, in their language: the days that share their
hours named together («Monday, Tuesday and Wednesday: 9:00 AM–1:00 PM and 2:00 PM–6:00 PM»), a day
with no hours said to be closed, one line each.

Days and times are formatted as the bot formats them everywhere (wording.dates: the reader's own
clock, Urdu's «صبح 9:00»), lists joined as the language joins them (wording.languages.listed), and
for a right-to-left reader each time is isolated by the catalog (texts.bidi), so it keeps its
order inside a Persian line, while the days and the words between the times are the reader's own
(texts.bidi.Filled): each line starts right to left with a day's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from babel.dates import get_day_names

from programme.appointments import Interval
from programme.text import N_
from texts.bidi import Filled
from wording.dates import clock_time
from wording.languages import format_locale, listed, translator

# One opening: the hours an office opens and closes at.
SPAN = N_("{start}–{end}")
# The days that share their hours, then those hours (one or more spans, already joined).
DAYS_OPEN = N_("{days}: {hours}")
# The days the office does not open at all.
DAYS_CLOSED = N_("{days}: closed")


def day_names(locale: str) -> dict[int, str]:
    """Each weekday's name (0 = Monday) as a sentence uses it in `locale`."""
    names = get_day_names("wide", context="format", locale=format_locale(locale))
    return {weekday: str(names[weekday]) for weekday in range(7)}


def _days(weekdays: Sequence[int], names: Mapping[int, str], locale: str) -> Filled:
    """The days listed, the first letter a capital as a line starts («Понедельник и вторник»): the
    reader's own words, so a right-to-left line starts with them, not with an isolate."""
    text = listed([names[day] for day in weekdays], locale)
    return Filled(text[:1].upper() + text[1:])


def opening_hours(hours: Mapping[int, Sequence[Interval]], locale: str) -> str:
    """The week's hours, Monday first as the programme's week is kept, one line per set of days
    with the same hours; the days without hours last, said plainly to be closed."""
    say = translator(locale)
    names = day_names(locale)
    groups: dict[tuple[Interval, ...], list[int]] = {}
    for weekday in range(7):
        spans = tuple(span for span in hours.get(weekday, ()) if span[0] < span[1])
        groups.setdefault(spans, []).append(weekday)
    lines = []
    closed = groups.pop((), None)
    for spans, weekdays in groups.items():
        # Each span a translation («9:00 تا 13:00», its times isolated), joined in the language.
        times = listed(
            [
                say(SPAN).format(start=clock_time(opens, locale), end=clock_time(closes, locale))
                for opens, closes in spans
            ],
            locale,
        )
        lines.append(say(DAYS_OPEN).format(days=_days(weekdays, names, locale), hours=Filled(times)))
    if closed:
        lines.append(say(DAYS_CLOSED).format(days=_days(closed, names, locale)))
    return "\n".join(lines)

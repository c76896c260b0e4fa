"""PDF documents (Annex 1, the consent form, the plan) drawn with fpdf2.

Text is shaped with HarfBuzz (uharfbuzz), so Persian, Pashto and Urdu come out joined and right to
left. The fonts are Noto Sans (Latin, Cyrillic) and Noto Sans Arabic, installed from their Python
packages with their licence (SIL Open Font License), never taken from the machine.
"""

from __future__ import annotations

import logging
import re

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from caseworker_console import fonts

SANS = "noto-sans"
ARABIC = "noto-sans-arabic"
LINE = 5.5  # mm between lines of body text
TAG = re.compile(r"<[^>]+>")

# fpdf2 warns of characters its fonts lack by quoting them, and those come from a person's plan or
# assessment: no log line may carry them, so only its errors are logged.
logging.getLogger("fpdf").setLevel(logging.ERROR)


# One place finds the fonts (the flyers use them too).
SANS_FILE = fonts.latin()
ARABIC_FILE = fonts.arabic()


def plain(markup: str) -> str:
    """A Telegram HTML text (<b>…</b>) as plain text for the page."""
    return TAG.sub("", markup).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class Document:
    """A simple A4 document: headings, paragraphs, label/value pairs and signature lines.

    `rtl` lays the whole document out right to left (the consent form in Persian, Pashto or Urdu);
    otherwise each paragraph still takes the direction of its own text (a need typed in Persian).
    """

    def __init__(self, *, title: str, language: str, rtl: bool = False) -> None:
        self.rtl = rtl
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_lang(language)
        self.pdf.set_creator("Intake Bridge")
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_auto_page_break(auto=True, margin=18)
        # The variable fonts' default (regular) instance only: making a bold instance takes seconds
        # per document, so headings stand out by their size instead.
        self.pdf.add_font(SANS, "", SANS_FILE)
        self.pdf.add_font(ARABIC, "", ARABIC_FILE)
        # Arabic script falls back to its own font; both are shaped.
        self.pdf.set_fallback_fonts([ARABIC])
        self.pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else None)
        self.pdf.add_page()
        self.pdf.set_font(SANS, size=10)

    @property
    def _align(self) -> str:
        return "R" if self.rtl else "L"

    def _write(self, text: str, *, size: float, gap: float = 0) -> None:
        self.pdf.set_font(SANS, "", size)
        self.pdf.multi_cell(0, size * 0.5 + 0.5, text, align=self._align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            self.pdf.ln(gap)

    def title(self, text: str) -> None:
        self._write(text, size=16, gap=2)

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self._write(text, size=12.5, gap=1)

    def paragraph(self, text: str, *, size: float = 10) -> None:
        self._write(text, size=size, gap=1.5)

    def note(self, text: str) -> None:
        self.pdf.set_text_color(70)
        self._write(text, size=8.5, gap=1)
        self.pdf.set_text_color(0)

    def pair(self, label: str, value: str | None) -> None:
        """A question and its answer; no answer leaves a line to write one by hand."""
        self.pdf.set_text_color(70)
        self._write(label, size=9)
        self.pdf.set_text_color(0)
        if value:
            self._write(value, size=10, gap=1.5)
        else:
            self.blank_line()

    def choices(self, labels: list[str]) -> None:
        """Options with an empty box each, to tick by hand (on the right in a right-to-left form)."""
        box = 3.5
        self.pdf.set_font(SANS, "", 10)
        self.pdf.set_draw_color(0)
        for label in labels:
            y = self.pdf.get_y()
            x = self.pdf.w - self.pdf.r_margin - box if self.rtl else self.pdf.l_margin
            self.pdf.rect(x, y + 0.8, box, box)
            self.pdf.set_x(self.pdf.l_margin if self.rtl else self.pdf.l_margin + box + 2.5)
            self.pdf.multi_cell(
                self.pdf.epw - box - 2.5, 5.5, label, align=self._align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.pdf.ln(1)

    def blank_line(self) -> None:
        self.pdf.ln(6)
        y = self.pdf.get_y()
        self.pdf.set_draw_color(120)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(2.5)

    def signature(self, label: str, date_label: str) -> None:
        """A line to sign and one for the date, kept together on one page."""
        if self.pdf.get_y() > self.pdf.h - 45:
            self.pdf.add_page()
        self.pdf.ln(8)
        self._write(f"{label}: ______________________________    {date_label}: ______________", size=10)

    def output(self) -> bytes:
        return bytes(self.pdf.output())

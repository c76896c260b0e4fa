"""A channel's printable flyer: the deep link's QR code and an invitation in each chosen language.

One layout is computed in millimetres, and two renderers draw exactly that layout: fpdf2 for the
PDF and Pillow for the PNG. Lines are broken here, with widths measured by HarfBuzz (uharfbuzz) on
the shaped text, so both renderers draw the same lines. Both shape with HarfBuzz too: fpdf2 through
uharfbuzz, Pillow through libraqm. Where Pillow has no raqm, the PNG's lines are drawn from the
glyph outlines HarfBuzz shaped and placed (draw_shaped), so Persian, Pashto and Urdu still come out
joined and right to left.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import threading
from collections.abc import Sequence
from pathlib import Path

import segno
import uharfbuzz as hb
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont, ImageMath, features

from caseworker_console import fonts
from wording import flyer as texts
from wording.languages import RIGHT_TO_LEFT, bot_catalog

PAGE_WIDTH = 210.0  # A4, in millimetres
PAGE_HEIGHT = 297.0
MARGIN = 15.0
QR_SIZE = 62.0
PNG_DPI = 150
POINT = 25.4 / 72  # one typographic point in millimetres
LINE_HEIGHT = 1.45  # times the font size
TITLE_SIZE = 15.0  # points
BODY_SIZE = 11.0
LINK_SIZE = 12.0
BLOCK_GAP = 4.0  # millimetres between two languages' blocks
_DRAWING = threading.Lock()


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    text: str
    language: str
    size: float  # points
    top: float  # millimetres from the page's top edge to the line box's top
    align: str  # "L", "R" or "C" within the content width

    @property
    def rtl(self) -> bool:
        return self.language in RIGHT_TO_LEFT

    @property
    def height(self) -> float:
        return self.size * POINT * LINE_HEIGHT


@dataclasses.dataclass(frozen=True, slots=True)
class Layout:
    link: str
    qr_top: float
    qr_left: float
    lines: tuple[Line, ...]


def invitation(language: str) -> tuple[str, str]:
    """The flyer's title and text in a bot language, from the bot's catalog."""
    catalog = bot_catalog(language)
    return catalog.gettext(texts.TITLE), catalog.gettext(texts.BODY)


@functools.cache
def _hb_font(path: Path) -> hb.Font:
    return hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))


def _shape(text: str, language: str) -> tuple[hb.Font, hb.Buffer]:
    font = _hb_font(fonts.for_language(language))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    buffer.language = language
    buffer.direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    hb.shape(font, buffer)
    return font, buffer


def text_width(text: str, language: str, size: float) -> float:
    """The shaped text's advance in millimetres at `size` points."""
    font, buffer = _shape(text, language)
    units = sum(position.x_advance for position in buffer.glyph_positions)
    return units / font.face.upem * size * POINT


def wrap(text: str, language: str, size: float, width: float) -> list[str]:
    """Greedy line breaks at spaces, each line at most `width` millimetres (a longer word alone)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, language, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


@functools.lru_cache(maxsize=16)
def rendered(kind: str, link: str, languages: tuple[str, ...], title: str) -> bytes:
    """A flyer as PDF or PNG; the same flyer again comes from memory (they take a second to draw).

    One at a time: the cached FreeType and HarfBuzz fonts are shared, and drawing is all CPU.
    """
    with _DRAWING:
        page = layout(link, languages)
        return pdf(page, title=title) if kind == "pdf" else png(page)


def layout(link: str, languages: Sequence[str]) -> Layout:
    """The page: QR code, the link under it, then a title and text per language, shrunk to fit."""
    scale = 1.0
    while True:
        lines, bottom = _lines(link, languages, scale)
        if bottom <= PAGE_HEIGHT - MARGIN or scale < 0.5:
            return Layout(link, MARGIN, (PAGE_WIDTH - QR_SIZE) / 2, tuple(lines))
        scale *= 0.92


def _lines(link: str, languages: Sequence[str], scale: float) -> tuple[list[Line], float]:
    width = PAGE_WIDTH - 2 * MARGIN
    top = MARGIN + QR_SIZE + 2
    lines = [Line(link, "en", LINK_SIZE, top, "C")]
    top += lines[0].height + BLOCK_GAP * 2
    for language in languages:
        align = "R" if language in RIGHT_TO_LEFT else "L"
        title, body = invitation(language)
        for text, size in ((title, TITLE_SIZE * scale), (body, BODY_SIZE * scale)):
            for part in wrap(text, language, size, width):
                line = Line(part, language, size, top, align)
                lines.append(line)
                top += line.height
        top += BLOCK_GAP * scale
    return lines, top


def qr_modules(link: str) -> list[list[bool]]:
    """The QR code's modules (True: dark), without the quiet zone the layout leaves around it."""
    code = segno.make(link, error="m", micro=False)
    return [[bool(module) for module in row] for row in code.matrix]


# ── PDF ──────────────────────────────────────────────────────────────────────────────────────────


def pdf(page: Layout, *, title: str) -> bytes:
    document = FPDF(unit="mm", format="A4")
    document.set_title(title)
    document.set_creator("Intake Bridge")
    document.set_auto_page_break(auto=False)
    document.set_margins(MARGIN, MARGIN, MARGIN)
    document.add_font("NotoSans", fname=str(fonts.latin()))
    document.add_font("NotoSansArabic", fname=str(fonts.arabic()))
    document.add_page()
    modules = qr_modules(page.link)
    unit = QR_SIZE / len(modules)
    document.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(modules):
        for column_index, dark in enumerate(row):
            if dark:
                document.rect(
                    page.qr_left + column_index * unit, page.qr_top + row_index * unit, unit, unit, style="F"
                )
    width = PAGE_WIDTH - 2 * MARGIN
    for line in page.lines:
        document.set_font("NotoSansArabic" if line.language in fonts.ARABIC_SCRIPT else "NotoSans")
        document.set_font_size(line.size)
        document.set_text_shaping(
            use_shaping_engine=True, direction="rtl" if line.rtl else "ltr", language=line.language
        )
        document.set_xy(MARGIN, line.top)
        document.cell(w=width, h=line.height, text=line.text, align=line.align)
    return bytes(document.output())


# ── PNG ──────────────────────────────────────────────────────────────────────────────────────────


def png_size() -> tuple[int, int]:
    return _px(PAGE_WIDTH), _px(PAGE_HEIGHT)


def _px(millimetres: float) -> int:
    return round(millimetres / 25.4 * PNG_DPI)


def png(page: Layout, *, with_raqm: bool | None = None) -> bytes:
    """The same page as an image at PNG_DPI; `with_raqm` None uses raqm when Pillow has it."""
    use_raqm = features.check("raqm") if with_raqm is None else with_raqm
    image = Image.new("L", png_size(), 255)
    draw = ImageDraw.Draw(image)
    modules = qr_modules(page.link)
    unit = _px(QR_SIZE) // len(modules)
    left = _px(page.qr_left) + (_px(QR_SIZE) - unit * len(modules)) // 2
    top = _px(page.qr_top)
    for row_index, row in enumerate(modules):
        for column_index, dark in enumerate(row):
            if dark:
                x, y = left + column_index * unit, top + row_index * unit
                draw.rectangle((x, y, x + unit - 1, y + unit - 1), fill=0)
    for line in page.lines:
        size = line.size / 72 * PNG_DPI
        # The baseline sits where fpdf2 puts it in a cell: the box's middle plus a third of the size.
        baseline = _px(line.top + line.height / 2) + size * 0.35
        if use_raqm:
            _draw_raqm(draw, line, size, baseline)
        else:
            draw_shaped(image, line, size, baseline)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def _x_for(line: Line, width_px: float) -> float:
    content_left, content_width = _px(MARGIN), _px(PAGE_WIDTH - 2 * MARGIN)
    if line.align == "R":
        return content_left + content_width - width_px
    if line.align == "C":
        return content_left + (content_width - width_px) / 2
    return content_left


@functools.cache
def _pil_font(path: Path, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=size, layout_engine=ImageFont.Layout.RAQM)


def _draw_raqm(draw: ImageDraw.ImageDraw, line: Line, size: float, baseline: float) -> None:
    font = _pil_font(fonts.for_language(line.language), size)
    direction = "rtl" if line.rtl else "ltr"
    width = font.getlength(line.text, direction=direction, language=line.language)
    draw.text(
        (_x_for(line, width), baseline),
        line.text,
        font=font,
        fill=0,
        anchor="ls",
        direction=direction,
        language=line.language,
    )


class _Pen:
    """Collects a glyph's contours as polygons in font units, curves flattened (a fontTools-style pen)."""

    STEPS = 8

    def __init__(self) -> None:
        self.contours: list[list[tuple[float, float]]] = []

    def moveTo(self, point: tuple[float, float]) -> None:
        self.contours.append([point])

    def lineTo(self, point: tuple[float, float]) -> None:
        self.contours[-1].append(point)

    def qCurveTo(self, *points: tuple[float, float]) -> None:
        (cx, cy), (x, y) = points[-2], points[-1]
        x0, y0 = self.contours[-1][-1]
        for step in range(1, self.STEPS + 1):
            t = step / self.STEPS
            u = 1 - t
            self.contours[-1].append(
                (u * u * x0 + 2 * u * t * cx + t * t * x, u * u * y0 + 2 * u * t * cy + t * t * y)
            )

    def curveTo(self, *points: tuple[float, float]) -> None:
        (c1x, c1y), (c2x, c2y), (x, y) = points[-3:]
        x0, y0 = self.contours[-1][-1]
        for step in range(1, self.STEPS + 1):
            t = step / self.STEPS
            u = 1 - t
            self.contours[-1].append(
                (
                    u**3 * x0 + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t**3 * x,
                    u**3 * y0 + 3 * u * u * t * c1y + 3 * u * t * t * c2y + t**3 * y,
                )
            )

    def closePath(self) -> None:
        pass

    def endPath(self) -> None:
        pass


def _signed_area(contour: Sequence[tuple[float, float]]) -> float:
    return sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(contour, [*contour[1:], contour[0]], strict=True)
    )


def _glyph_mask(contours: list[list[tuple[float, float]]], size: tuple[int, int]) -> Image.Image:
    """Nonzero winding, as TrueType fills: each contour adds +1 or -1 by its direction, so
    overlapping strokes (variable fonts keep them) stay filled and counters stay holes."""
    winding = Image.new("I", size, 0)
    for contour in contours:
        if len(contour) < 3:
            continue
        layer = Image.new("I", size, 0)
        ImageDraw.Draw(layer).polygon(contour, fill=1 if _signed_area(contour) > 0 else -1)
        winding = _add(winding, layer)
    filled = ImageMath.lambda_eval(lambda names: (names["w"] != 0) * 255, w=winding)
    return filled.convert("L")


def _add(first: Image.Image, second: Image.Image) -> Image.Image:
    return ImageMath.lambda_eval(lambda names: names["a"] + names["b"], a=first, b=second)


def draw_shaped(image: Image.Image, line: Line, size: float, baseline: float) -> None:
    """Draw a line from HarfBuzz's shaped and positioned glyphs, each outline rasterised at 4x
    and scaled down for smooth edges (the PNG's way when Pillow has no raqm)."""
    font, buffer = _shape(line.text, line.language)
    scale = size / font.face.upem
    width = sum(position.x_advance for position in buffer.glyph_positions) * scale
    oversample = 4
    pen_x = _x_for(line, width)
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        pen = _Pen()
        font.draw_glyph_with_pen(info.codepoint, pen)
        origin_x = pen_x + position.x_offset * scale
        origin_y = baseline - position.y_offset * scale
        pen_x += position.x_advance * scale
        points = [point for contour in pen.contours for point in contour]
        if not points:
            continue
        left = int(origin_x + min(x for x, _ in points) * scale) - 1
        top = int(origin_y - max(y for _, y in points) * scale) - 1
        right = int(origin_x + max(x for x, _ in points) * scale) + 2
        bottom = int(origin_y - min(y for _, y in points) * scale) + 2
        contours = [
            [
                ((origin_x + x * scale - left) * oversample, (origin_y - y * scale - top) * oversample)
                for x, y in contour
            ]
            for contour in pen.contours
        ]
        big = _glyph_mask(contours, ((right - left) * oversample, (bottom - top) * oversample))
        coverage = big.resize((right - left, bottom - top), Image.Resampling.BOX)
        image.paste(0, (left, top, right, bottom), coverage)

"""A CJK font for the charts, and matplotlib settings that make the SVG self-contained and stable.

Chinese project names must draw as real glyphs, never as missing-glyph boxes,
on any viewer's machine. So the charts use a CJK font found on this machine and
SVG text is written as paths (``svg.fonttype = "path"``): the report needs no
font where it is read. When no CJK font is installed we stop with one line that
says what to install, rather than draw boxes.

``PORTFOLIO_CJK_FONT`` (a font file or a family name) overrides the search.
"""
from __future__ import annotations

import contextlib
import os
import re
import warnings
from pathlib import Path
from portfolio.errors import PortfolioError

INSTALL_HINT = (
    "no CJK font found for the Chinese names in the charts: install the Debian package fonts-wqy-microhei "
    "(apt-get install -y fonts-wqy-microhei) or fonts-noto-cjk, or set PORTFOLIO_CJK_FONT to a font file"
)

# Family names in order of preference; all cover GB2312 and the full-width punctuation in the data.
PREFERRED = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)
# File names to look for when matplotlib's font cache predates the font's installation.
FILE_PATTERN = re.compile(r"(notosanscjk|notosanssc|sourcehansans|wqy-microhei|wqy-zenhei|droidsansfallback"
                          r"|uming|msyh|simhei|pingfang)", re.IGNORECASE)
# Characters a usable font must have (a sample of the names in the bundled data).
PROBE = "西安咸阳国际机场三期扩建工程引汉济渭泾河东庄水利枢纽地铁号线（环线）省发展改革委、"
GLYPH_MISSING = r"Glyph .* missing from (current )?font"

_cache: dict[str, str] = {}


class MissingFontError(PortfolioError, RuntimeError):
    """No font on this machine can draw the Chinese names."""


def _covers(path: str, text: str = PROBE) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except Exception:  # unreadable or unsupported font file
        return False
    return all(ord(ch) in charmap for ch in text)


def find_cjk_font() -> str:
    """The family name of an installed CJK font (registered with matplotlib); MissingFontError if none."""
    if "family" in _cache:
        return _cache["family"]
    from matplotlib import font_manager as fm

    override = os.environ.get("PORTFOLIO_CJK_FONT", "").strip()
    if override:
        if Path(override).is_file():
            fm.fontManager.addfont(override)
            family = fm.FontProperties(fname=override).get_name()
            if not _covers(override):
                raise MissingFontError(f"PORTFOLIO_CJK_FONT={override} does not cover Chinese characters; "
                                       + INSTALL_HINT.split(": ", 1)[1])
        else:
            family = override
            if not any(f.name == family for f in fm.fontManager.ttflist):
                raise MissingFontError(f"PORTFOLIO_CJK_FONT={override}: no such font family; "
                                       + INSTALL_HINT.split(": ", 1)[1])
        _cache["family"] = family
        return family

    known = {f.name: f.fname for f in fm.fontManager.ttflist}
    for family in PREFERRED:
        if family in known and _covers(known[family]):
            _cache["family"] = family
            return family
    # The cache may predate the font: look at the font files themselves.
    for path in sorted(fm.findSystemFonts()):
        if FILE_PATTERN.search(Path(path).name) and _covers(path):
            fm.fontManager.addfont(path)
            family = fm.FontProperties(fname=path).get_name()
            _cache["family"] = family
            return family
    raise MissingFontError(INSTALL_HINT)


def rc_params(family: str) -> dict:
    """Matplotlib settings of every chart: CJK font first, text as paths, stable ids, no date."""
    return {
        "font.family": [family, "DejaVu Sans"],
        "font.size": 9.5,
        "axes.titlesize": 11.5,
        "axes.titleweight": "normal",
        "axes.titlecolor": "#1c2833",
        "axes.titlepad": 8,
        "axes.titlelocation": "left",
        "axes.labelsize": 9.5,
        "axes.labelcolor": "#333333",
        "axes.edgecolor": "#9e9e9e",
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": False,
        "xtick.color": "#444444",
        "ytick.color": "#444444",
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "legend.fontsize": 8.5,
        "legend.frameon": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "portfolio-report",
        "svg.image_inline": True,
        "path.simplify": True,
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }


@contextlib.contextmanager
def chart_style():
    """Apply the chart settings for the duration of the block; a missing glyph raises an error."""
    import logging

    import matplotlib

    family = find_cjk_font()
    fm_log = logging.getLogger("matplotlib.font_manager")
    level = fm_log.level
    fm_log.setLevel(logging.ERROR)  # "no bold face, using regular" is expected for some CJK fonts
    try:
        with matplotlib.rc_context(rc_params(family)), warnings.catch_warnings():
            warnings.filterwarnings("error", message=GLYPH_MISSING)
            yield family
    finally:
        fm_log.setLevel(level)


def font_file(family: str) -> tuple[str, int] | None:
    """(path, face index in a collection) of an installed font family, None when unknown."""
    from matplotlib import font_manager as fm

    entries = [e for e in fm.fontManager.ttflist if e.name == family]
    entries.sort(key=lambda e: (e.style != "normal", abs(_weight(e.weight) - 400)))
    return (entries[0].fname, int(getattr(entries[0], "index", 0) or 0)) if entries else None


def _weight(weight) -> int:
    try:
        return int(weight)
    except (TypeError, ValueError):
        return 400


def embedded_font_css(text: str, css_family: str = "PortfolioCJK") -> str:
    """An @font-face rule with the CJK font's glyphs for ``text`` inlined (WOFF, data URI); "" if impossible.

    The HTML then shows its Chinese table text even on a machine without a CJK font.
    The subset is deterministic (no timestamps), so the HTML bytes stay stable.
    """
    import base64
    import io
    import logging

    chars = "".join(sorted({ch for ch in text if ch.isprintable()}))
    if not any(ord(ch) > 0x2000 for ch in chars):
        return ""
    try:
        from fontTools import subset
    except ImportError:  # matplotlib depends on fontTools, but be safe
        return ""
    located = font_file(find_cjk_font())
    if located is None:
        return ""
    path, index = located
    options = subset.Options()
    options.font_number = index
    options.flavor = "woff"
    options.layout_features = []
    options.name_IDs = []
    options.hinting = False
    options.notdef_outline = True
    options.recalc_timestamp = False
    log = logging.getLogger("fontTools")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        font = subset.load_font(path, options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
    except Exception:  # a font fontTools cannot subset: the CSS font stack still applies
        return ""
    finally:
        log.setLevel(level)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"@font-face {{ font-family: '{css_family}'; font-style: normal; font-weight: 400; "
            f"src: url(data:font/woff;base64,{data}) format('woff'); }}")

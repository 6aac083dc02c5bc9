"""Chinese-capable fonts for charts: registered from their files (so a stale font cache cannot
hide an installed font), with a warned fallback to ids when none is found."""

from __future__ import annotations

import glob
import os
import warnings
from functools import lru_cache

from capacity.errors import CapacityNote

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
# where Debian, Fedora, macOS and Windows keep such fonts (file names, not the cache, are read)
CJK_FONT_FILES = (
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
    "/usr/share/fonts/**/wqy-microhei.ttc",
    "/usr/share/fonts/**/wqy-zenhei.ttc",
    "/usr/share/fonts/**/DroidSansFallback*.ttf",
    "/usr/share/fonts/**/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.tt[cf]",
    "C:/Windows/Fonts/simhei.ttf",
)


class FontFallbackWarning(CapacityNote):
    """Chinese names are drawn as ids because no CJK font was found (a note: printed, recorded in
    manifest.json and shown in report.html)."""


def register_cjk_files(patterns: tuple[str, ...] = CJK_FONT_FILES) -> list[str]:
    """Add every CJK font file found to matplotlib's font manager; returns the files added."""
    from matplotlib import font_manager

    extra = os.environ.get("CAPACITY_CJK_FONT")
    files = sorted({f for p in ((extra,) if extra else ()) + patterns for f in glob.glob(p, recursive=True)})
    for f in files:
        try:
            font_manager.fontManager.addfont(f)
        except (OSError, RuntimeError, ValueError):  # an unreadable file is skipped, the next one is tried
            continue
    return files


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of a font with Chinese glyphs (registered from its file first), or None."""
    from matplotlib import font_manager

    register_cjk_files()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    return None


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds CJK characters."""
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def label(name: str, fallback: str) -> str:
    """``name`` when it can be drawn, else ``fallback`` (e.g. the zone id) with a warning."""
    if has_cjk(name) and cjk_font() is None:
        _warn_fallback()
        return fallback
    codes = drawable_codes()
    if codes and any(ord(ch) not in codes for ch in name if ch.isprintable() and not ch.isspace()):
        warnings.warn(
            "some zone or school names hold characters no installed font can draw (e.g. emoji); "
            "charts show their ids instead (the tables and report.html keep the names)",
            FontFallbackWarning,
            stacklevel=2,
        )
        return fallback
    return name


def drawable_codes() -> frozenset[int]:
    """Code points the chart fonts can draw (the CJK font, if any, and DejaVu Sans); empty when unknown."""
    return _codes_with(cjk_font())


@lru_cache(maxsize=8)
def _codes_with(cjk: str | None) -> frozenset[int]:
    fonts = [_codes_of(f) for f in (cjk, "DejaVu Sans") if f is not None]
    return frozenset() if any(not c for c in fonts) else frozenset().union(*fonts)


@lru_cache(maxsize=8)
def _codes_of(family: str) -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    try:
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):  # a font that cannot be read: draw the names as they are
        return frozenset()


def _warn_fallback() -> None:
    msg = (
        "no Chinese font found (looked for " + ", ".join(CJK_FONTS[:4]) + " ...); charts show zone and school ids instead of names. "
        "Install fonts-wqy-microhei or fonts-noto-cjk, or set CAPACITY_CJK_FONT to a font file"
    )
    warnings.warn(msg, FontFallbackWarning, stacklevel=3)


def font_rc() -> dict[str, object]:
    """rcParams that put the CJK font first (empty when none is installed)."""
    f = cjk_font()
    if f is None:
        return {}
    return {"font.sans-serif": [f, "DejaVu Sans"], "font.family": "sans-serif", "axes.unicode_minus": False}

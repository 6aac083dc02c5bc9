"""Chinese-capable fonts for charts, with a clean fallback."""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    return None


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds CJK characters."""
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def label(name: str, fallback: str) -> str:
    """``name`` when it can be drawn, else ``fallback`` (e.g. the zone id)."""
    if has_cjk(name) and cjk_font() is None:
        return fallback
    return name


def font_rc() -> dict[str, object]:
    """rcParams that put the CJK font first (empty when none is installed)."""
    f = cjk_font()
    if f is None:
        return {}
    return {"font.sans-serif": [f, "DejaVu Sans"], "font.family": "sans-serif", "axes.unicode_minus": False}

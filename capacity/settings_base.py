"""What every settings class shares: copying with changes, a plain dict, and checks that
collect every problem before raising one ScenarioError.

Besides each class's own range checks, every settings class gets generic checks driven by
its dataclass field types (:func:`field_problems`), run before the class's own: numbers are
finite and (unless the field is listed in ``SIGNED_FIELDS``) not negative, whole numbers are
whole, text is text, also deep inside dicts and lists; lists of numbers hold no duplicates;
free-form values (solver options) are plain scalars. All problems of an object are listed
at once.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import fields, replace

from capacity.errors import ScenarioError

# Settings whose numbers may be negative (a decline, a loss); every other number must be >= 0.
SIGNED_FIELDS = frozenset({"births_trend", "transition_annual_change", "net_migration"})


class Checks:
    """Collects 'section.key: found ...; expected ...' problems."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.problems: list[str] = []

    def need(self, ok: bool, key: str, found: object, expected: str) -> None:
        """Record a problem unless ``ok``."""
        if not ok:
            self.problems.append(f"{self.section}.{key}: found {found!r}; expected {expected}")

    def done(self) -> None:
        """Raise every recorded problem at once."""
        if self.problems:
            raise ScenarioError(f"invalid {self.section} settings:\n  - " + "\n  - ".join(self.problems))


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_value(value, tp, key: str, signed: bool, out: list[tuple[str, object, str]]) -> None:
    """Append (key, found, expected) for every way ``value`` does not fit type hint ``tp``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is typing.Any and isinstance(value, (dict, list, tuple)):  # free-form nested value
        _check_value(value, dict if isinstance(value, dict) else list, key, signed, out)
        return
    if tp is typing.Any or tp is object:
        if not (value is None or isinstance(value, (str, bool)) or (_is_number(value) and math.isfinite(value))):
            out.append((key, value, "a plain value (text, a finite number, true or false)"))
        return
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        tries = []
        for a in (a for a in args if a is not type(None)):
            sub: list = []
            _check_value(value, a, key, signed, sub)
            if not sub:
                return
            tries.append(sub)
        out.extend(min(tries, key=len) if tries else [(key, value, "a value")])
        return
    if tp is bool:
        if not isinstance(value, bool):
            out.append((key, value, "true or false"))
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((key, value, "a whole number"))
        elif value < 0 and not signed:
            out.append((key, value, "a whole number >= 0"))
        return
    if tp is float:
        if not _is_number(value):
            out.append((key, value, "a number"))
        elif not math.isfinite(value):
            out.append((key, value, "a finite number (not .inf or .nan)"))
        elif value < 0 and not signed:
            out.append((key, value, "a number >= 0"))
        return
    if tp is str:
        if not isinstance(value, str):
            out.append((key, value, "text"))
        elif any(not ch.isprintable() for ch in value):
            out.append((key, value, "text without control characters"))
        return
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            out.append((key, value, "a mapping"))
            return
        kt, vt = args if args else (str, typing.Any)
        for k, v in value.items():
            _check_value(k, kt, f"{key}.{k}", signed, out)
            _check_value(v, vt, f"{key}.{k}", signed, out)
        return
    if tp in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            out.append((key, value, "a list"))
            return
        inner = args[0] if args else typing.Any
        for i, v in enumerate(value):
            _check_value(v, inner, f"{key}[{i}]", signed, out)
        numbers = [v for v in value if _is_number(v)]
        if inner in (float, int) and len(set(numbers)) < len(numbers):
            dup = sorted({v for v in numbers if numbers.count(v) > 1})
            out.append((key, list(value), f"distinct values (found {', '.join(map(str, dup))} more than once)"))
        return


@functools.cache
def _type_hints(cls: type) -> dict[str, object]:
    """``typing.get_type_hints`` of a settings class, resolved once: the string annotations are evaluated again on every
    call (about half the cost of checking a settings object, which ``with_`` does on every copy)."""
    return typing.get_type_hints(cls)


def field_problems(obj) -> list[str]:
    """'section.key: found ...; expected ...' for every field of a settings dataclass that does not fit its type."""
    section = type(obj).__name__.removesuffix("Settings").lower()
    hints = _type_hints(type(obj))
    found: list[tuple[str, object, str]] = []
    for f in fields(obj):
        _check_value(getattr(obj, f.name), hints[f.name], f.name, f.name in SIGNED_FIELDS, found)
    return [f"{section}.{k}: found {v!r}; expected {e}" for k, v, e in found]


def _with_generic_checks(post_init):
    @functools.wraps(post_init)
    def run(self) -> None:
        problems = field_problems(self)
        if not problems:
            return post_init(self)
        try:
            post_init(self)
        except ScenarioError as e:  # the class's own checks: keep those not already listed
            keys = {p.split(":")[0] for p in problems}
            problems += [ln[4:] for ln in str(e).splitlines()[1:] if ln.startswith("  - ") and ln[4:].split(":")[0] not in keys]
        except (TypeError, ValueError, KeyError, AttributeError):  # caused by the values already listed
            pass
        section = type(self).__name__.removesuffix("Settings").lower()
        raise ScenarioError(f"invalid {section} settings:\n  - " + "\n  - ".join(problems))

    return run


class SettingsMixin:
    """with_() and as_dict() for frozen settings dataclasses, and the generic field checks."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is not None:
            cls.__post_init__ = _with_generic_checks(own)

    def with_(self, **changes: object):
        """A copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        """Plain dict of every parameter (for manifests and reports)."""
        return {f.name: (v.as_dict() if isinstance(v := getattr(self, f.name), SettingsMixin) else v) for f in fields(self)}

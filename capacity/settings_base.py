"""What every settings class shares: copying with changes, a plain dict, and checks that
collect every problem before raising one ScenarioError."""

from __future__ import annotations

from dataclasses import fields, replace

from capacity.errors import ScenarioError


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


class SettingsMixin:
    """with_() and as_dict() for frozen settings dataclasses."""

    def with_(self, **changes: object):
        """A copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        """Plain dict of every parameter (for manifests and reports)."""
        return {f.name: (v.as_dict() if isinstance(v := getattr(self, f.name), SettingsMixin) else v) for f in fields(self)}

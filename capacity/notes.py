"""One mechanism for notes: input accepted with a fallback, a clipped value, a guess.

Any step announces a note with :func:`note` (or ``warnings.warn(text, CapacityNote)``). The
CLI collects every note of a command with :func:`collecting`, prints each once as
``note: ...`` and a run records them in manifest.json (``notes``) and report.html.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from capacity.errors import CapacityNote


def note(text: str) -> None:
    """Announce one note (deduplicated by the collector)."""
    warnings.warn(text, CapacityNote, stacklevel=2)


class Notes(list):
    """Notes collected so far, in order, each once; ``echo`` prints each new one."""

    echo = None

    def add(self, text: str) -> None:
        if text not in self:
            self.append(text)
            if self.echo is not None:
                self.echo(text)


_ACTIVE: list[Notes] = []


@contextmanager
def collecting(echo=None) -> Iterator[Notes]:
    """Collect notes raised inside the block; ``echo(text)`` is called once per new note."""
    notes = Notes()
    notes.echo = echo
    old = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, CapacityNote):
            text = str(message)
            for n in _ACTIVE:
                n.add(text)
            return
        old(message, category, filename, lineno, file, line)

    _ACTIVE.append(notes)
    with warnings.catch_warnings():
        warnings.simplefilter("always", CapacityNote)
        warnings.showwarning = show
        try:
            yield notes
        finally:
            _ACTIVE.remove(notes)


def current() -> list[str]:
    """Notes collected by the innermost active collector (empty outside one)."""
    return list(_ACTIVE[-1]) if _ACTIVE else []

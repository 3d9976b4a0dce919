"""When the text output is coloured: ``--color auto|always|never`` and ``NO_COLOR``."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COLOR_CHOICES", "color_wanted"]

COLOR_CHOICES = ("auto", "always", "never")


def color_wanted(choice: str, *, environ: Mapping[str, str], is_terminal: bool) -> bool:
    """``always`` and ``never`` say it; ``auto`` is colour on a terminal unless ``NO_COLOR``.

    As https://no-color.org asks: a non-empty ``NO_COLOR`` turns colour off, and an explicit
    ``--color always`` (a CI log that renders ANSI) still turns it on.
    """
    if choice == "always":
        return True
    if choice == "never" or environ.get("NO_COLOR"):
        return False
    return is_terminal

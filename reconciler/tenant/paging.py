"""Auth0's two ways of paging a list: offsets (``page``/``per_page``) and checkpoints.

A checkpoint list takes ``from`` (the ``next`` of the page before; none for the first)
and ``take``, and answers ``{<items>, next}``; there is no ``next`` on the last page
(auth0-python ``management/client_grants/raw_client.py``: the pager stops when ``next``
is missing or empty). Here ``next`` is the position of the last row answered, encoded so
nobody reads meaning into it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from reconciler.tenant.query import query_boolean, query_error, query_integer, query_text
from reconciler.tenant.schema import JsonObject

__all__ = ["Paging", "next_token", "paged_answer", "parse_paging"]

_CURSOR = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Paging:
    """What a list asked for: a checkpoint (``after``) or an offset page, and its size."""

    checkpoint: bool
    after: int
    offset: int
    limit: int
    include_totals: bool


def parse_paging(
    *,
    page: object,
    per_page: object,
    include_totals: object,
    from_: object,
    take: object,
) -> Paging:
    """``from``/``take`` make a checkpoint list; ``page``/``per_page`` an offset one."""
    totals = bool(query_boolean(include_totals, "include_totals"))
    if from_ is not None or take is not None:
        if page is not None or per_page is not None:
            raise query_error("Checkpoint and offset pagination cannot be combined", "from")
        size = query_integer(take, "take", default=50, minimum=1, maximum=100)
        return Paging(True, _read_cursor(from_), 0, size, totals)
    first = query_integer(page, "page", default=0, minimum=0)
    size = query_integer(per_page, "per_page", default=50, minimum=1, maximum=100)
    return Paging(False, 0, first * size, size, totals)


def next_token(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode("ascii")).decode("ascii").rstrip("=")


def paged_answer(
    member: str, rows: list[tuple[int, JsonObject]], total: int, paging: Paging
) -> JsonObject | list[JsonObject]:
    """The answer for ``rows``, read with ``paging.limit + 1`` rows for a checkpoint (the
    extra row only tells that there is a next page)."""
    page = rows[: paging.limit]
    items = [row for _, row in page]
    if paging.checkpoint:
        answer: JsonObject = {member: items}
        if len(rows) > paging.limit:
            answer["next"] = next_token(page[-1][0])
        return answer
    if paging.include_totals:
        return {"total": total, "start": paging.offset, "limit": paging.limit, member: items}
    return items


def _read_cursor(value: object) -> int:
    text = query_text(value, "from")
    if text is None or text == "":
        return 0
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not _CURSOR.fullmatch(decoded):
        raise query_error("Invalid checkpoint: pass the next of the page before", "from")
    return int(decoded)

"""Offset paging that cannot skip: windows that overlap, each checked against those before.

Auth0 pages ``/clients`` and ``/resource-servers`` only by offset (``page`` times
``per_page``; checkpoints only with a ``q`` on client grants), in an order it does not
document. A client deleted from a page already read moves every later one a place up:
the next page then starts one too far, the client that moved across the boundary is
never seen, and the count still matches ``total``. Were it an owned app, the plan would
create it again.

So each window starts before the end of the one before (a ``per_page`` under 100 puts
its offset there) and must hold an item already read. If it does, nothing that existed
throughout the read can lie unread between the two: surviving items keep their order,
and the window is contiguous from that item on. If it holds none (the list moved by more
than the overlap), the read steps back and reads again from further up, as far as the
start. A window that answers short, or reaches ``total``, is the end of the list. An
item created during the read may be missed and one deleted during it kept, as with any
read; one that was there all along is never missed.

On a quiet tenant this costs ``quiet_requests(n)`` requests: 1 up to 100 items, 3 up to
294, 114 for 10,000 (where pages that do not overlap take 100).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.errors import RegistryError

__all__ = ["MAX_PAGE", "Page", "next_window", "quiet_requests", "read_every_item"]

#: The largest page Auth0's offset lists answer.
MAX_PAGE = 100
#: The smallest page a window uses: smaller ones would cost more requests than they save.
MIN_PAGE = 50
#: Windows read again (the list moved under the read) before the read gives up.
MAX_REREADS = 10

#: One answered page: its items and the ``total`` it announced (None when it gave none).
Page = tuple[list[dict[str, Any]], int | None]
#: Reads the page ``page`` of size ``per_page``.
Fetch = Callable[[int, int], Page]


def next_window(covered: int) -> tuple[int, int]:
    """``(page, per_page)`` of the window that holds position ``covered - 1`` (the last
    one read) and reaches furthest past it; the first window when nothing is covered."""
    if covered <= 0:
        return 0, MAX_PAGE
    last = covered - 1
    return max(
        ((last // size, size) for size in range(MIN_PAGE, MAX_PAGE + 1)),
        key=lambda window: ((window[0] + 1) * window[1], window[1]),
    )


def quiet_requests(count: int) -> int:
    """The requests a read of ``count`` items takes while nothing changes."""
    covered = 0
    requests = 0
    while True:
        page, size = next_window(covered)
        requests += 1
        end = min(count, (page + 1) * size)
        if end - page * size < size or end >= count:
            return requests
        covered = end


def read_every_item(fetch: Fetch, key: str, what: str) -> list[dict[str, Any]]:
    """Every item of an offset-paged list, identified by ``key``, in list order."""
    items: dict[str, dict[str, Any]] = {}
    covered = 0
    rereads = 0
    missed_in_a_row = 0
    while True:
        page, size = next_window(covered)
        batch, total = fetch(page, size)
        identifiers = [str(item[key]) for item in batch]
        if covered and not any(identifier in items for identifier in identifiers):
            rereads += 1
            if rereads > MAX_REREADS:
                raise RegistryError(
                    f"{what} kept changing while they were read ({MAX_REREADS} pages read "
                    "again): plan again once the tenant is quieter"
                )
            covered = max(0, covered - MAX_PAGE * 2**missed_in_a_row)
            missed_in_a_row += 1
            if covered == 0:
                items.clear()
            continue
        missed_in_a_row = 0
        for identifier, item in zip(identifiers, batch, strict=True):
            items[identifier] = item
        covered = page * size + len(batch)
        if len(batch) < size or (total is not None and covered >= total):
            return list(items.values())

"""Offset paging that cannot skip: windows that overlap, each checked against those before.

Auth0 pages ``/clients``, ``/client-grants``, ``/connections`` and ``/resource-servers``
by offset (``page`` times ``per_page``), in an order it does not document. A client
deleted from a page already read moves every later one a place up: the next page then
starts one too far, the client that moved across the boundary is never seen, and the
count still matches ``total``. Were it an owned app, the plan would create it again.

So each window starts before the end of the one before (a ``per_page`` under 100 puts
its offset there) and must hold an item already read. If it does, nothing that existed
throughout the read can lie unread between the two: surviving items keep their order,
the window read earlier holds every one from its start to the shared item, and the other
every one from that item to its end, whichever of the two was answered first. So the
windows may be fetched at once: once the first page has said the total, every window a
quiet list needs is fetched together (``fetch_all``, as many at a time as the caller's
pool and rate budget allow), then checked in order. If one holds no item already read
(the list moved by more than the overlap between the two answers), the read steps back to
an earlier window's end and reads on from there one window at a time, as far as the start
if need be; a window fetched ahead that failed that check is tried once more when the read
comes back to it. A window that answers short, or reaches ``total``, is the end of the
list; a list that grew past the windows fetched ahead is fetched ahead again. An item
created during the read may be missed and one deleted during it kept, as with any read;
one that was there all along is never missed.

On a quiet list this costs ``quiet_requests(n)`` requests, in two rounds: 1 up to 100
items, 3 up to 294, 114 for 10,000 (where pages that do not overlap take 100).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.errors import RegistryError

__all__ = [
    "MAX_PAGE",
    "FetchAll",
    "Page",
    "Window",
    "next_window",
    "quiet_requests",
    "quiet_windows",
    "read_every_item",
]

#: The largest page Auth0's offset lists answer.
MAX_PAGE = 100
#: The smallest page a window uses: smaller ones would cost more requests than they save.
MIN_PAGE = 50
#: Windows read again (the list moved under the read) before the read gives up.
MAX_REREADS = 10

#: One answered page: its items and the ``total`` it announced (None when it gave none).
Page = tuple[list[dict[str, Any]], int | None]
#: A window: ``(page, per_page)``.
Window = tuple[int, int]
#: Reads the page ``page`` of size ``per_page``.
Fetch = Callable[[int, int], Page]
#: Reads every window given, perhaps at once, and answers their pages in the same order.
FetchAll = Callable[[Sequence[Window]], list[Page]]


def next_window(covered: int) -> Window:
    """``(page, per_page)`` of the window that holds position ``covered - 1`` (the last
    one read) and reaches furthest past it; the first window when nothing is covered."""
    if covered <= 0:
        return 0, MAX_PAGE
    last = covered - 1
    return max(
        ((last // size, size) for size in range(MIN_PAGE, MAX_PAGE + 1)),
        key=lambda window: ((window[0] + 1) * window[1], window[1]),
    )


def quiet_windows(covered: int, count: int) -> list[Window]:
    """The windows a read of ``count`` items takes from ``covered`` on (0, or the end of
    a window already read) while nothing changes."""
    windows = []
    while True:
        page, size = next_window(covered)
        windows.append((page, size))
        end = min(count, (page + 1) * size)
        if end - page * size < size or end >= count:
            return windows
        covered = end


def quiet_requests(count: int) -> int:
    """The requests a read of ``count`` items takes while nothing changes."""
    return len(quiet_windows(0, count))


def read_every_item(
    fetch: Fetch, key: str, what: str, *, fetch_all: FetchAll | None = None
) -> list[dict[str, Any]]:
    """Every item of an offset-paged list, identified by ``key``, in list order.

    ``fetch_all`` fetches the windows after the first (by default one after another)."""
    gather = fetch_all or (lambda windows: [fetch(page, size) for page, size in windows])
    items: dict[str, dict[str, Any]] = {}
    covered = 0
    #: The ends of the windows accepted so far, where a read that stepped back resumes.
    ends: list[int] = []
    ahead: dict[Window, Page] = {}
    tried_once: set[Window] = set()
    fetched_to = 0
    rereads = 0
    missed_in_a_row = 0
    while True:
        window = next_window(covered)
        page, size = window
        fetched_ahead = window in ahead
        batch, total = ahead.pop(window) if fetched_ahead else fetch(page, size)
        identifiers = [str(item[key]) for item in batch]
        if covered and not any(identifier in items for identifier in identifiers):
            if fetched_ahead and window not in tried_once:
                tried_once.add(window)
                ahead[window] = batch, total
            rereads += 1
            if rereads > MAX_REREADS:
                raise RegistryError(
                    f"{what} kept changing while they were read ({MAX_REREADS} pages read "
                    "again): plan again once the tenant is quieter"
                )
            back_to = covered - MAX_PAGE * 2**missed_in_a_row
            covered = max((end for end in ends if end <= back_to), default=0)
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
        ends.append(covered)
        if total is not None and covered >= fetched_to:
            windows = quiet_windows(covered, total)
            ahead.update(zip(windows, gather(windows), strict=True))
            last_page, last_size = windows[-1]
            fetched_to = (last_page + 1) * last_size

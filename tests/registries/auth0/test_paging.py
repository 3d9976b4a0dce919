"""Offset reads that cannot skip (``registries/auth0/paging.py``), over a list that moves
between page requests as a tenant does while apps register and leave."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from reconciler.errors import RegistryError
from reconciler.registries.auth0.paging import (
    MAX_PAGE,
    FetchAll,
    Page,
    Window,
    next_window,
    quiet_requests,
    read_every_item,
)

Change = Callable[["MovingList"], None]


class MovingList:
    """Items in creation order, paged by offset; ``changes[n]`` runs after the n-th page."""

    def __init__(self, count: int, changes: dict[int, Change] | None = None) -> None:
        self.items = [{"id": f"item{n:05d}"} for n in range(count)]
        self._made = itertools.count(count)
        self.changes = changes or {}
        self.pages: list[tuple[int, int]] = []

    def fetch(self, page: int, per_page: int) -> Page:
        assert 1 <= per_page <= MAX_PAGE
        self.pages.append((page, per_page))
        answer = [dict(item) for item in self.items[page * per_page : (page + 1) * per_page]]
        total = len(self.items)
        change = self.changes.get(len(self.pages))
        if change is not None:
            change(self)
        return answer, total

    def delete(self, *positions: int) -> None:
        for position in sorted(positions, reverse=True):
            del self.items[position]

    def create(self, count: int = 1, *, at: int | None = None) -> None:
        for _ in range(count):
            item = {"id": f"item{next(self._made):05d}"}
            self.items.insert(len(self.items) if at is None else at, item)

    def ids(self) -> set[str]:
        return {item["id"] for item in self.items}


def read(listing: MovingList) -> set[str]:
    found = read_every_item(listing.fetch, "id", "the items")
    identifiers = [item["id"] for item in found]
    assert len(identifiers) == len(set(identifiers)), "an item was listed twice"
    return set(identifiers)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 294, 295, 1000, 5000])
def test_a_quiet_list_is_read_whole_in_the_requests_quiet_requests_counts(count: int) -> None:
    listing = MovingList(count)

    assert read(listing) == listing.ids()
    assert len(listing.pages) == quiet_requests(count)


def test_every_window_overlaps_the_one_before_and_moves_on() -> None:
    covered = 0
    for _ in range(500):
        page, size = next_window(covered)
        start, end = page * size, (page + 1) * size
        assert start <= max(0, covered - 1) < end and end > covered
        covered = end


def test_a_deletion_on_a_page_already_read_skips_nothing() -> None:
    # Plain pages of 100 miss item 100 here: it moves to position 99, which page 0 has read.
    before = MovingList(250).ids()
    listing = MovingList(250, {1: lambda tenant: tenant.delete(3)})

    found = read(listing)

    assert found >= before - {"item00003"}


def test_deletions_and_as_many_creations_between_pages_skip_nothing() -> None:
    # The total stays 250, so a count cannot tell; the overlap can.
    stayed = MovingList(250).ids()

    def churn(tenant: MovingList) -> None:
        for position in (30, 20, 10):
            stayed.discard(tenant.items.pop(position)["id"])
        tenant.create(3)

    listing = MovingList(250, {1: churn, 2: churn})

    assert read(listing) >= stayed


def test_more_deletions_than_the_overlap_step_back_and_read_again() -> None:
    original = MovingList(400).ids()
    listing = MovingList(400, {2: lambda tenant: tenant.delete(*range(120, 180))})

    found = read(listing)

    assert found >= original - {f"item{n:05d}" for n in range(120, 180)}
    assert len(listing.pages) > quiet_requests(400)


def test_a_list_emptied_while_it_is_read_reads_the_rest_again() -> None:
    listing = MovingList(150, {1: lambda tenant: tenant.delete(*range(150))})

    assert read(listing) <= {f"item{n:05d}" for n in range(100)}


def test_items_created_before_the_offset_push_nothing_out() -> None:
    original = MovingList(300).ids()
    listing = MovingList(300, {1: lambda tenant: tenant.create(5, at=0)})

    assert read(listing) >= original


@pytest.mark.parametrize("seed", range(30))
def test_random_churn_between_pages_never_loses_an_item_that_stayed(seed: int) -> None:
    chance = random.Random(seed)
    stayed = {f"item{n:05d}" for n in range(600)}

    def churn(tenant: MovingList) -> None:
        for _ in range(chance.randint(0, 12)):
            if tenant.items and chance.random() < 0.6:
                gone = tenant.items[chance.randrange(len(tenant.items))]["id"]
                stayed.discard(gone)
                tenant.items.remove({"id": gone})
            else:
                tenant.create(at=chance.randrange(len(tenant.items) + 1))

    listing = MovingList(600, {page: churn for page in range(1, 40)})

    assert read(listing) >= stayed


def test_a_list_that_never_holds_still_is_an_error_not_a_guess() -> None:
    def replace_everything(tenant: MovingList) -> None:
        tenant.delete(*range(len(tenant.items)))
        tenant.create(250)

    listing = MovingList(250, {page: replace_everything for page in range(1, 100)})

    with pytest.raises(RegistryError, match="the items kept changing while they were read"):
        read(listing)


def test_items_read_again_keep_their_latest_answer() -> None:
    def rename(tenant: MovingList) -> None:
        tenant.delete(0)
        tenant.items[98]["name"] = "renamed"

    listing = MovingList(150, {1: rename})
    found: dict[str, Any] = {
        item["id"]: item for item in read_every_item(listing.fetch, "id", "the items")
    }

    assert found["item00099"].get("name") == "renamed"


def fetched_together(listing: MovingList, seed: int, rounds: list[int] | None = None) -> FetchAll:
    """Windows fetched as a pool fetches them: all at once, answered in any order (the
    list's changes run between two answers); ``rounds`` gets each call's window count."""
    chance = random.Random(seed)

    def fetch_all(windows: Sequence[Window]) -> list[Page]:
        if rounds is not None:
            rounds.append(len(windows))
        order = list(range(len(windows)))
        chance.shuffle(order)
        answers = {index: listing.fetch(*windows[index]) for index in order}
        return [answers[index] for index in range(len(windows))]

    return fetch_all


def read_together(listing: MovingList, seed: int = 0) -> set[str]:
    found = read_every_item(
        listing.fetch, "id", "the items", fetch_all=fetched_together(listing, seed)
    )
    identifiers = [item["id"] for item in found]
    assert len(identifiers) == len(set(identifiers)), "an item was listed twice"
    return set(identifiers)


@pytest.mark.parametrize("count", [0, 99, 100, 101, 250, 1000, 10_000])
def test_a_quiet_list_fetched_together_costs_the_same_in_two_rounds(count: int) -> None:
    listing = MovingList(count)
    rounds: list[int] = []

    found = read_every_item(
        listing.fetch, "id", "the items", fetch_all=fetched_together(listing, 1, rounds)
    )

    assert {item["id"] for item in found} == listing.ids()
    assert [item["id"] for item in found] == [item["id"] for item in listing.items]
    assert len(listing.pages) == quiet_requests(count)
    assert rounds == ([quiet_requests(count) - 1] if quiet_requests(count) > 1 else [])


def test_a_deletion_before_windows_fetched_together_skips_nothing() -> None:
    # The first page is read, then three of its items go before the rest are fetched:
    # every later window starts three places too far, and none overlaps page 0.
    before = MovingList(1000).ids()
    listing = MovingList(1000, {1: lambda tenant: tenant.delete(3, 4, 5)})

    found = read_together(listing)

    assert found >= before - {"item00003", "item00004", "item00005"}


def test_a_list_that_grew_past_the_windows_fetched_ahead_is_fetched_ahead_again() -> None:
    listing = MovingList(500, {1: lambda tenant: tenant.create(400)})
    rounds: list[int] = []

    found = read_every_item(
        listing.fetch, "id", "the items", fetch_all=fetched_together(listing, 2, rounds)
    )

    assert {item["id"] for item in found} == listing.ids()
    assert len(rounds) == 2


@pytest.mark.parametrize("seed", range(40))
def test_random_churn_while_windows_are_fetched_together_never_loses_an_item_that_stayed(
    seed: int,
) -> None:
    chance = random.Random(seed)
    stayed = {f"item{n:05d}" for n in range(1500)}

    def churn(tenant: MovingList) -> None:
        for _ in range(chance.randint(0, 6)):
            if tenant.items and chance.random() < 0.6:
                gone = tenant.items[chance.randrange(len(tenant.items))]["id"]
                stayed.discard(gone)
                tenant.items.remove({"id": gone})
            else:
                tenant.create(at=chance.randrange(len(tenant.items) + 1))

    listing = MovingList(1500, {page: churn for page in range(1, 60) if chance.random() < 0.3})

    assert read_together(listing, seed) >= stayed

"""Fidelity rows: listing clients and APIs by offset (``auth0-fidelity.md`` section 2).

The backend reads both lists in overlapping windows of at most 100 (``registries/auth0/
paging.py``); these rows hold the imitations to what that relies on.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ApiError
from reconciler.tenant.engine import Tenant
from tests.fidelity.conftest import Imitation

SCOPES = "read:clients read:resource_servers"


def listed(imitation: Imitation, route: str, **query: str) -> Any:
    """GET /api/v2/{route} with ``query`` as each imitation answers it (an error raised)."""
    if imitation.served is None:
        assert isinstance(imitation.api, Tenant)
        if route == "clients":
            return imitation.api.list_clients(**query)
        return imitation.api.resource_servers.list(**query)
    served = imitation.served
    with served.http() as http:
        answer = http.get(
            f"{served.base_url}/api/v2/{route}",
            params=query,
            headers={"Authorization": f"Bearer {served.token(SCOPES)}"},
        )
    body = answer.json()
    if answer.status_code >= 400:
        raise ApiError(answer.status_code, body["error"], body["message"], body.get("errorCode"))
    return body


@pytest.fixture
def clients(imitation: Imitation) -> list[str]:
    """The tenant's applications in creation order: its own (serve's management client),
    then 250 more; the global client besides."""
    imitation.seed({"clients": [{"name": f"App {n:03d}"} for n in range(250)]})
    return imitation.own_applications + [f"App {n:03d}" for n in range(250)]


def test_a_page_with_totals_counts_only_what_the_filter_lets_through(
    imitation: Imitation, clients: list[str]
) -> None:
    # Source: recording TestClient_List (go-auth0 v1.45.0): include_totals answers
    # {total, start, limit, clients}; auth0-python clients/raw_client.py:86-200 (page is
    # 0-based). total honours is_global=false: auth0-deploy-cli's pager compared the two
    # on such listings for years (src/tools/auth0/client.ts:125-155).
    page = listed(
        imitation, "clients", page="2", per_page="99", include_totals="true", is_global="false"
    )
    assert set(page) >= {"total", "start", "limit", "clients"}
    assert (page["total"], page["start"], page["limit"]) == (len(clients), 198, 99)
    assert [client["name"] for client in page["clients"]] == clients[198:]
    everything = listed(imitation, "clients", per_page="1", include_totals="true")
    assert everything["total"] == len(clients) + 1  # and the global client


def test_per_page_is_at_most_100(imitation: Imitation, clients: list[str]) -> None:
    # Source: Auth0's description of per_page, "Number of results per page. Default value
    # is 50, maximum value is 100." (go-auth0 reference.md Clients.List, auth0-python
    # clients/raw_client.py). What Auth0 answers for 101 is not recorded: the stricter
    # reading refuses it (400 invalid_query_string) rather than answering 100.
    assert len(listed(imitation, "clients", is_global="false")) == 50
    assert len(listed(imitation, "clients", per_page="100", is_global="false")) == 100
    with pytest.raises(ApiError) as refused:
        listed(imitation, "clients", per_page="101")
    assert (refused.value.status, refused.value.error_code) == (400, "invalid_query_string")


def test_a_page_past_the_end_is_empty_and_still_says_the_total(
    imitation: Imitation, clients: list[str]
) -> None:
    # Source: recording TestClient_List (the totals shape); a page past the end answers no
    # clients, which is where every pager (auth0-python's, dcli's) stops.
    page = listed(
        imitation, "clients", page="9", per_page="50", include_totals="true", is_global="false"
    )
    assert page["clients"] == [] and page["total"] == len(clients)


def test_a_deletion_moves_every_later_client_up_a_place(
    imitation: Imitation, clients: list[str]
) -> None:
    # Source: none documents Auth0's order (there is no sort parameter for clients,
    # go-auth0 reference.md). The stricter reading for a reader, and the imitations'
    # creation order: deleting a client moves every later one a place up, so a pager
    # whose pages do not overlap skips the one that crosses a page boundary. The backend
    # reads in overlapping windows for it, and relies only on the clients that stay
    # keeping their order.
    first_page = listed(imitation, "clients", per_page="100", is_global="false")
    imitation.api.delete_client(first_page[3]["client_id"])
    second_page = listed(imitation, "clients", page="1", per_page="100", is_global="false")
    assert second_page[0]["name"] == clients[101]  # clients[100] is now on the first page
    moved = listed(imitation, "clients", per_page="100", is_global="false")
    assert [client["name"] for client in moved] == clients[:3] + clients[4:101]


def test_apis_page_by_offset_with_the_same_totals(imitation: Imitation) -> None:
    # Source: go-auth0 reference.md ResourceServers.List (page, per_page, include_totals;
    # no checkpoint), answering {total, start, limit, resource_servers}.
    imitation.seed(
        {
            "resource_servers": [
                {"identifier": f"https://api{n:03d}.example.com/"} for n in range(120)
            ]
        }
    )
    page = listed(imitation, "resource-servers", page="1", per_page="99", include_totals="true")
    assert (page["total"], page["start"], page["limit"]) == (120, 99, 99)
    assert [server["identifier"] for server in page["resource_servers"]] == [
        f"https://api{n:03d}.example.com/" for n in range(99, 120)
    ]

"""Fidelity rows: the field projection of GET /clients (``fields``, ``include_fields``).

The backend reads clients with only the members a plan reads (``registries/clients.py``
``READ_MEMBERS``): these rows hold the imitations to what Auth0 answers for a projection.

Sources: Auth0's reference page for the route, docs ``api/management/v2/clients/
get-clients`` ("A list of fields to include or exclude may also be specified"), whose
parameters node-auth0's generated ``GetClientsRequest`` carries word for word: ``fields``,
"Comma-separated list of fields to include or exclude (based on value provided for
include_fields) in the result. Leave empty to retrieve all fields."; ``include_fields``,
"Whether specified fields are to be included (true) or excluded (false)"; auth0-python's
docstring (``auth0-management-api.md`` section 1) gives ``include_fields`` the default
true. A live tenant answered ``fields=client_id&include_fields=true`` with ``tenant`` on
each client as well (go-auth0 recording, ``auth0-management-api.md``).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.registries.clients import READ_MEMBERS
from reconciler.tenant.engine import Tenant
from tests.fidelity.conftest import Imitation

SCOPES = "read:clients read:client_keys"
CLIENT = {
    "name": "Projected",
    "app_type": "regular_web",
    "callbacks": ["https://app.example.com/callback"],
    "client_metadata": {"team": "a"},
}


def listed(imitation: Imitation, path: str, **query: str) -> Any:
    """GET /api/v2/{path} with ``query`` as each imitation answers it; a list of clients
    only of ``CLIENT``'s type, which leaves out serve's management client (an m2m app, as
    on Auth0)."""
    if path == "clients":
        query = {"app_type": str(CLIENT["app_type"]), **query}
    if imitation.served is None:
        assert isinstance(imitation.api, Tenant)
        if path == "clients":
            return imitation.api.list_clients(**query)
        return imitation.api.get_client(path.removeprefix("clients/"), **query)
    served = imitation.served
    with served.http() as http:
        answer = http.get(
            f"{served.base_url}/api/v2/{path}",
            params=query,
            headers={"Authorization": f"Bearer {served.token(SCOPES)}"},
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def client_id(imitation: Imitation) -> str:
    return str(imitation.api.create_client(dict(CLIENT))["client_id"])


def test_include_fields_answers_only_the_fields_named_and_the_tenant(
    imitation: Imitation, client_id: str
) -> None:
    page = listed(
        imitation,
        "clients",
        fields="client_id,name,client_metadata",
        include_fields="true",
        is_global="false",
        include_totals="true",
    )
    assert page["total"] == 1  # the projection leaves the count alone
    [client] = page["clients"]
    assert set(client) <= {"client_id", "name", "client_metadata", "tenant"}
    assert (client["client_id"], client["name"]) == (client_id, "Projected")
    assert client["client_metadata"] == {"team": "a"}


def test_include_fields_is_true_when_left_out(imitation: Imitation, client_id: str) -> None:
    [client] = listed(imitation, "clients", fields="client_id,callbacks", is_global="false")
    assert set(client) <= {"client_id", "callbacks", "tenant"}


def test_include_fields_false_answers_everything_but_the_fields_named(
    imitation: Imitation, client_id: str
) -> None:
    [whole] = listed(imitation, "clients", is_global="false")
    [client] = listed(
        imitation,
        "clients",
        fields="signing_keys,client_secret",
        include_fields="false",
        is_global="false",
    )
    assert "signing_keys" in whole and "client_secret" in whole
    assert set(client) == set(whole) - {"signing_keys", "client_secret"}


def test_one_client_takes_the_same_projection(imitation: Imitation, client_id: str) -> None:
    client = listed(imitation, f"clients/{client_id}", fields="name", include_fields="true")
    assert set(client) <= {"name", "tenant"}
    assert client["name"] == "Projected"


def test_the_members_a_plan_reads_are_answered_as_the_whole_client_holds_them(
    imitation: Imitation, client_id: str
) -> None:
    [whole] = listed(imitation, "clients", is_global="false")
    [client] = listed(
        imitation,
        "clients",
        fields=",".join(sorted(READ_MEMBERS)),
        include_fields="true",
        is_global="false",
    )
    assert client == {k: v for k, v in whole.items() if k in READ_MEMBERS or k == "tenant"}

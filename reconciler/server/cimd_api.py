"""``POST /api/v2/clients/cimd/preview`` and ``/register``: the server fetches the document.

The URL is checked first (400 ``invalid_body``), the document comes from the server's
``DocumentSource``, and it is validated with the reconciler's CIMD rules. Preview always
answers 200, with ``errors`` when the fetch failed; register refuses documents with
violations (400), and everything while the tenant setting
``client_id_metadata_document_supported`` is off (403), and otherwise upserts on the URL
(201 created, 200 refreshed). The sources disagree on register's answer: a live tenant
answered ``{client_id, client_secret, signing_keys}`` (go-auth0's recording
``TestClient_CIMDFields``, 2025), Auth0's reference page and its generated SDKs (which
refuse an answer without them) ``{client_id, mapped_fields, validation}`` with a
``Location``. Serve answers all of it, so every client works against it; the backend reads
only ``client_id`` (a test holds it to the recorded answer alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.cimd.document import validate_document
from reconciler.cimd.url import cimd_url_problems
from reconciler.errors import ApiError, CimdError
from reconciler.server.auth import require_scope
from reconciler.server.documents import DocumentSource
from reconciler.server.messages import Response, json_response, read_json
from reconciler.server.routing import Call, Route
from reconciler.tenant.engine import Tenant
from reconciler.tenant.rules import JsonObject, invalid_body, json_type

__all__ = ["CimdRoutes", "Evaluation"]

URL_FIELD = "external_client_id"
#: What a live tenant's register answered.
RECORDED_ANSWER = ("client_id", "client_secret", "signing_keys")


@dataclass(frozen=True)
class Evaluation:
    """What the server makes of one fetched document."""

    violations: list[str]
    warnings: list[str]
    mapped_fields: JsonObject | None

    @property
    def valid(self) -> bool:
        return not self.violations

    def validation(self) -> JsonObject:
        return {"valid": self.valid, "violations": self.violations, "warnings": self.warnings}


class CimdRoutes:
    def __init__(self, tenant: Tenant, documents: DocumentSource, *, allow_loopback: bool) -> None:
        self.tenant = tenant
        self.documents = documents
        self.allow_loopback = allow_loopback

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/v2/clients/cimd/preview", self.preview),
            Route("POST", "/api/v2/clients/cimd/register", self.register),
        ]

    def preview(self, call: Call) -> Response:
        require_scope(call.grant, "read:clients")
        url = self._requested_url(read_json(call.request))
        answer: JsonObject = {}
        existing = self.tenant.find_by_external_client_id(url)
        if existing is not None:
            answer["client_id"] = existing["client_id"]
            if "external_metadata_created_by" in existing:
                answer["external_metadata_created_by"] = existing["external_metadata_created_by"]
        try:
            document = self.documents(url)
        except CimdError as exc:
            return json_response(200, {**answer, "errors": [str(exc)]})
        evaluation = self.evaluate(url, document)
        answer["validation"] = evaluation.validation()
        if evaluation.mapped_fields is not None:
            answer["mapped_fields"] = evaluation.mapped_fields
        return json_response(200, answer)

    def register(self, call: Call) -> Response:
        url = self._requested_url(read_json(call.request))
        exists = self.tenant.find_by_external_client_id(url) is not None
        require_scope(call.grant, "update:clients" if exists else "create:clients")
        try:
            document = self.documents(url)
        except CimdError as exc:
            raise _unusable_document(f"The document could not be retrieved: {exc}") from exc
        evaluation = self.evaluate(url, document)
        if not evaluation.valid or evaluation.mapped_fields is None:
            raise _unusable_document(
                "The document is not valid: " + "; ".join(evaluation.violations)
            )
        client, created = self.tenant.cimd_register(url, document)
        return json_response(
            201 if created else 200,
            {
                **{name: client[name] for name in RECORDED_ANSWER},
                "mapped_fields": evaluation.mapped_fields,
                "validation": evaluation.validation(),
            },
            {"Location": f"/api/v2/clients/{client['client_id']}"},
        )

    def evaluate(self, url: str, document: Mapping[str, Any]) -> Evaluation:
        findings = validate_document(url, document)
        violations = [f"{f.path}: {f.message}" for f in findings if f.is_error]
        warnings = [f"{f.path}: {f.message}" for f in findings if not f.is_error]
        try:
            mapped: JsonObject | None = self.tenant.cimd_mapped_fields(url, dict(document))
        except ApiError as exc:
            mapped = None
            if not violations:  # else the validator has already said why, in its words
                violations.append(exc.message)
        return Evaluation(violations, warnings, mapped)

    def _requested_url(self, body: object) -> str:
        """The body's ``external_client_id``, checked against the CIMD URL rules."""
        if not isinstance(body, dict):
            raise invalid_body(f"Expected type object but found type {json_type(body)}")
        for name in body:
            if name != URL_FIELD:
                raise invalid_body(f"Additional properties not allowed: {name}")
        url = body.get(URL_FIELD)
        if url is None:
            raise invalid_body(f"Missing required property: {URL_FIELD}")
        if not isinstance(url, str):
            raise invalid_body(f"Expected type string but found type {json_type(url)}", URL_FIELD)
        problems = cimd_url_problems(url, allow_loopback=self.allow_loopback)
        if problems:
            raise invalid_body(
                f"Not a Client ID Metadata Document URL: it {'; it '.join(problems)}", URL_FIELD
            )
        return url


def _unusable_document(message: str) -> ApiError:
    return ApiError(400, "Bad Request", message, "invalid_client_metadata")

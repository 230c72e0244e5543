"""The JSON API fuzzed from its own OpenAPI description: no 5xx, and answers match the description.

Semantic refusals of schema-valid input (an unknown email, a name already taken, a phase move
the rules forbid) are legitimate 4xx answers, so the "positive data acceptance" check is left
out; every other check runs, including that schema-invalid input is refused.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

import drafting.app  # noqa: F401  (importing the app imports every API module, which registers its paths)
from drafting.api.openapi import spec
from tests.conftest import World

# Oversized values are refused with 413 (CONTRACT.md), besides the usual 4xx of invalid data.
CONFIG = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]}}})
schema = schemathesis.openapi.from_dict(spec(), config=CONFIG)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, unsupported_method]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_answers_as_described(case, app):
    token = getattr(app, "_fuzz_token", None) or World(app).token("admin")
    app._fuzz_token = token
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

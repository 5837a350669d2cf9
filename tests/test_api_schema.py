"""Property-based: requests generated from the OpenAPI document never meet a server error.

Each operation gets a bounded run of valid and of invalid requests (schemathesis) against
the embedded store holding the example chain; every response must be a documented status
with a body matching its documented schema, and never a 5xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from laborgraph.app.main import create_app
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import make_settings

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25


def _runs() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) for each operation; invalid requests only where there is input."""
    # Building the document reads nothing and opens nothing: the routes are static.
    document = create_app(make_settings("embedded", Path("unused"))).openapi()
    runs = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            runs.append((method, path, GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody"):
                runs.append((method, path, GenerationMode.NEGATIVE))
    return runs


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    chosen = make_settings("embedded", tmp_path_factory.mktemp("schema"))
    store = EmbeddedStore(chosen.data_dir)
    try:
        ingest_path(store, EXAMPLE_BUNDLE)
    finally:
        store.close()
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(chosen))


@pytest.mark.parametrize(("method", "path", "mode"), _runs(), ids=lambda value: str(value))
def test_no_server_errors(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    run()

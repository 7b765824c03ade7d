import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema


def test_the_schema_generates_without_a_warning(tmp_path):
    """A warning means a guessed name or type (two "status" enums once took a hashed name)."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_operation_documents_its_error_responses(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert any(path == "/api/v1/me/" for path, _, _ in operations)

    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ("429", "500"):
            assert code in responses, f"{method.upper()} {path} lacks {code}"
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), f"{method.upper()} {path} {code}"


def test_protected_and_public_operations_are_told_apart(schema):
    me = schema["paths"]["/api/v1/me/"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]

    assert {"401", "403"} <= set(me["get"]["responses"])
    assert "400" in me["patch"]["responses"]
    assert "401" in token["responses"]  # wrong password
    assert "403" not in token["responses"]


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn.jsdelivr" not in response.content

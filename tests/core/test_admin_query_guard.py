"""The admin's changelists take hostile query strings without a 500; logins without ?next
land somewhere real; production has a home for media."""

import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD, UserFactory
from tests.content.factories import make_atom
from tests.core.test_production_settings import run_manage

pytestmark = pytest.mark.django_db

ESSAY = " ".join(f"word{n}" for n in range(2000))


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "changelist", ["/admin/content/learningatom/", "/admin/accounts/user/",
                   pytest.param("/admin/legacy_sync/quarantinedrow/",
                                marks=pytest.mark.legacy_sync)],
)  # fmt: skip
def test_a_2000_word_search_keeps_its_first_words_and_says_so(admin_client, changelist):
    make_atom("mcq", title="word1 word2")

    response = admin_client.get(changelist, {"q": ESSAY})

    assert response.status_code == 200
    assert b"Searched for the first 20 words only." in response.content


def test_a_capped_search_still_finds_by_its_first_words(admin_client):
    # every word must match (Django's admin search), so the words after the 20th would not
    atom = make_atom("mcq", title="Stopping distances")

    response = admin_client.get(
        "/admin/content/learningatom/", {"q": "Stopping " * 20 + "nowhere " * 30}
    )

    assert response.status_code == 200
    assert atom.title.encode() in response.content


@pytest.mark.parametrize(
    "query",
    [{"q": "a\x00b"}, {"status__exact": "draft\x00"}, {"atom_type\x00": "mcq"}],
)
def test_a_nul_in_a_changelist_query_is_a_400(admin_client, query):
    response = admin_client.get("/admin/content/learningatom/", query)

    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_the_api_login_without_next_lands_on_the_caller():
    user = UserFactory()
    client = Client()

    response = client.post("/api/auth/login/", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/api/v1/me/"
    assert client.get(response["Location"]).json()["email"] == user.email


def test_production_refuses_to_start_without_a_home_for_media():
    refused = run_manage("check", DJANGO_SERVE_LOCAL_MEDIA=None)
    with_s3 = run_manage("check", DJANGO_SERVE_LOCAL_MEDIA=None, AWS_STORAGE_BUCKET_NAME="media")

    assert refused.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in refused.stderr
    assert "DJANGO_SERVE_LOCAL_MEDIA" in refused.stderr
    assert with_s3.returncode == 0, with_s3.stderr

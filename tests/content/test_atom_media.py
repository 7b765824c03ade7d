import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.content.services import atom_media_attach
from tests.content.factories import make_atom, republish

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_image_and_audio_are_stored_with_their_sniffed_type(media_root):
    atom = make_atom("mcq")

    image = atom_media_attach(
        atom=atom, uploaded_file=SimpleUploadedFile("sign.png", PNG), alt_text="A sign"
    )
    audio = atom_media_attach(atom=atom, uploaded_file=SimpleUploadedFile("say.ogg", OGG))

    assert (image.kind, image.content_type, image.size_bytes) == ("image", "image/png", len(PNG))
    assert (audio.kind, audio.content_type) == ("audio", "audio/ogg")
    assert (media_root / image.file.name).read_bytes() == PNG


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("notes.txt", b"just some text here", "Unsupported file"),
        ("script.png", b"#!/bin/sh\nrm -rf /", "Unsupported file"),
        ("sign.mp3", PNG, "named sign.mp3"),
    ],
)
def test_unsupported_or_misnamed_files_are_rejected(name, payload, message):
    atom = make_atom("mcq")

    with pytest.raises(ValidationError) as excinfo:
        atom_media_attach(atom=atom, uploaded_file=SimpleUploadedFile(name, payload))

    assert message in excinfo.value.messages[0]
    assert not atom.media.exists()


def test_oversized_files_are_rejected_with_the_limit(settings):
    settings.CONTENT_MEDIA_MAX_BYTES = {"image": 50, "audio": 50}
    atom = make_atom("mcq")

    with pytest.raises(ValidationError) as excinfo:
        atom_media_attach(atom=atom, uploaded_file=SimpleUploadedFile("big.png", PNG))

    assert "at most" in excinfo.value.messages[0]


def test_learner_api_links_the_media_once_published(learner_client):
    atom = make_atom("mcq")
    atom_media_attach(atom=atom, uploaded_file=SimpleUploadedFile("sign.png", PNG), alt_text="x")
    assert learner_client.get(f"/api/v1/atoms/{atom.pk}/").json()["media"] == []  # still draft

    republish(atom)
    body = learner_client.get(f"/api/v1/atoms/{atom.pk}/").json()

    assert body["media"][0]["kind"] == "image"
    assert body["media"][0]["url"].startswith("http://testserver/media/atoms/")

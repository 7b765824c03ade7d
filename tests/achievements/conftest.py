import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Icons are written through the default storage: local files under MEDIA_ROOT here.
    settings.MEDIA_ROOT = tmp_path

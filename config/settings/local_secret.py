"""A secret key of this checkout's own, for the dev and test settings only.

No settings module has a public default key: anyone could forge a JWT with it. Instead the
first dev or test run writes a random key to ``var/secret_key`` (never committed), and every
later process of the checkout (server, worker, shell, tests) reads the same one.
"""

import os
import secrets
from pathlib import Path

VAR_DIR = Path(__file__).resolve().parent.parent.parent / "var"


def local_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic: when processes race, the first key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()

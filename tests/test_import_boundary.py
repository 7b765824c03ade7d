"""The dependency on the migration app runs one way: the domain apps never import
``apps.legacy_sync`` (they speak through apps/core/sync_port.py), so it can be deleted at
cutover. Read from the code, at any depth (function-level imports included)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = ("core", "accounts", "curriculum", "content", "learning", "scheduler")


def legacy_sync_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(
            name == "apps.legacy_sync" or name.startswith("apps.legacy_sync.") for name in names
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_domain_app_imports_the_migration_app():
    offending = [
        line
        for app in DOMAIN_APPS
        for path in sorted((ROOT / "apps" / app).rglob("*.py"))
        for line in legacy_sync_imports(path)
    ]

    assert not offending, "domain apps import legacy_sync:\n" + "\n".join(offending)


def test_the_check_finds_an_import(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / "apps" / "learning" / "example.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from apps.legacy_sync.outbox import outbox_record\n")

    assert legacy_sync_imports(module) == [
        "apps/learning/example.py:2: from apps.legacy_sync.outbox import outbox_record"
    ]

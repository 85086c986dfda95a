from __future__ import annotations

import stat

from app.config import Config


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUNDTRIP_INSTANCE", str(tmp_path))

    first = Config({}).SECRET_KEY
    second = Config({}).SECRET_KEY

    assert first == second
    assert len(first) >= 64
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_environment_wins_over_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUNDTRIP_INSTANCE", str(tmp_path))

    config = Config({"SECRET_KEY": "from-env", "DATABASE_URL": "postgresql://h/db"})

    assert (config.SECRET_KEY, config.DATABASE_URL) == ("from-env", "postgresql://h/db")
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUNDTRIP_INSTANCE", str(tmp_path))

    assert f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}" == Config({}).DATABASE_URL

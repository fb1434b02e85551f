"""Settings per mode, read from a clean environment (no developer variables, no repository .env)."""
from __future__ import annotations

import stat

import pytest

import config
from config import DevelopmentConfig, ProductionConfig, load_config

SETTINGS = ["APP_ENV", "DATABASE_URL", "SECRET_KEY", "JWT_EXPIRES_MINUTES", "BCRYPT_ROUNDS", "UPLOAD_DIR",
            "MAX_UPLOAD_MB", "CORS_ORIGINS", "REDIS_URL", "PROXY_HOPS", "AUTH_RATE_LIMIT", "RATELIMIT_ENABLED",
            "LOG_LEVEL"]
GOOD_SECRET = "k" * 48


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting from the developer's shell, and a project root without .env, instance/ inside tmp_path."""
    for name in SETTINGS:
        # setenv first, so that monkeypatch also undoes whatever load_dotenv might set during the test
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "project")
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    return tmp_path


def test_production_refuses_a_missing_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


@pytest.mark.parametrize("secret", ["", "   ", "short", "k" * 31, " " + "k" * 31 + " ", "é" * 15])
def test_production_refuses_a_secret_key_under_32_bytes(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


@pytest.mark.parametrize("secret", [GOOD_SECRET, "k" * 32, "é" * 16])
def test_production_accepts_a_secret_key_of_32_bytes_or_more(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
    settings = load_config("production")
    assert isinstance(settings, ProductionConfig)
    assert secret == settings.SECRET_KEY
    assert settings.DEBUG is False
    assert settings.TESTING is False


def test_production_does_not_generate_a_secret_file(clean_environment, monkeypatch):
    with pytest.raises(RuntimeError):
        load_config("production")
    assert not (clean_environment / "instance" / "secret_key").exists()


def test_development_generates_a_secret_once_and_reuses_it(clean_environment):
    first = load_config("development")
    assert isinstance(first, DevelopmentConfig)
    path = clean_environment / "instance" / "secret_key"
    assert path.is_file()
    assert path.read_text().strip() == first.SECRET_KEY
    assert len(first.SECRET_KEY.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_config("development")
    assert second.SECRET_KEY == first.SECRET_KEY


def test_development_prefers_a_configured_secret(clean_environment, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    assert load_config("development").SECRET_KEY == GOOD_SECRET
    assert not (clean_environment / "instance" / "secret_key").exists()


def test_testing_uses_a_fresh_throwaway_secret_and_cheap_bcrypt(clean_environment):
    first, second = load_config("testing"), load_config("testing")
    assert isinstance(first, config.TestingConfig)
    assert first.TESTING is True
    assert first.BCRYPT_ROUNDS == 4
    assert len(first.SECRET_KEY.encode()) >= 32
    assert first.SECRET_KEY != second.SECRET_KEY
    assert not (clean_environment / "instance" / "secret_key").exists()


def test_app_env_picks_the_mode(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    assert isinstance(load_config(), config.TestingConfig)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    assert isinstance(load_config(), ProductionConfig)
    monkeypatch.delenv("APP_ENV")
    assert isinstance(load_config(), DevelopmentConfig)


@pytest.mark.parametrize("name", ["bogus", "Production", "prod", "base"])
def test_unknown_app_env_raises(monkeypatch, name):
    monkeypatch.setenv("APP_ENV", name)
    with pytest.raises(RuntimeError, match="APP_ENV"):
        load_config()
    with pytest.raises(RuntimeError, match="APP_ENV"):
        load_config(name)


@pytest.mark.parametrize("name", ["MAX_UPLOAD_MB", "JWT_EXPIRES_MINUTES", "BCRYPT_ROUNDS", "PROXY_HOPS"])
@pytest.mark.parametrize("value", ["abc", "16.5", "1e3", "ten"])
def test_non_integer_setting_raises_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError) as info:
        load_config("testing")
    assert name in str(info.value)
    assert value in str(info.value)


def test_defaults(clean_environment):
    settings = load_config("testing")
    assert settings.MAX_UPLOAD_MB == 16
    assert settings.MAX_CONTENT_LENGTH >= 16 * 1024 * 1024
    assert settings.MAX_CONTENT_LENGTH < 17 * 1024 * 1024
    assert "http://localhost:5173" in settings.CORS_ORIGINS
    assert "http://localhost:3000" in settings.CORS_ORIGINS
    assert settings.JWT_EXPIRES_MINUTES == 60
    assert settings.AUTH_RATE_LIMIT == "10/minute"
    assert settings.RATELIMIT_ENABLED is True
    assert settings.REDIS_URL is None
    assert settings.RATELIMIT_STORAGE_URI == "memory://"
    assert settings.PROXY_HOPS == 0
    assert f"sqlite:///{clean_environment / 'instance' / 'retail_analytics.sqlite3'}" == settings.DATABASE_URL
    assert settings.BCRYPT_ROUNDS == 4
    assert load_config("development").BCRYPT_ROUNDS == 12


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAX_UPLOAD_MB", " 5 ")
    monkeypatch.setenv("CORS_ORIGINS", "https://shop.example, ,https://admin.example")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("RATELIMIT_ENABLED", "FALSE")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "files"))
    settings = load_config("testing")
    assert settings.MAX_UPLOAD_MB == 5
    assert 5 * 1024 * 1024 < settings.MAX_CONTENT_LENGTH < 6 * 1024 * 1024
    assert settings.CORS_ORIGINS == ["https://shop.example", "https://admin.example"]
    assert settings.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/2"
    assert settings.RATELIMIT_ENABLED is False
    assert (tmp_path / "files").resolve() == settings.UPLOAD_DIR


def test_blank_values_mean_the_default(monkeypatch):
    for name in ("MAX_UPLOAD_MB", "CORS_ORIGINS", "REDIS_URL", "JWT_EXPIRES_MINUTES"):
        monkeypatch.setenv(name, "  ")
    settings = load_config("testing")
    assert settings.MAX_UPLOAD_MB == 16
    assert "http://localhost:5173" in settings.CORS_ORIGINS
    assert settings.REDIS_URL is None
    assert settings.JWT_EXPIRES_MINUTES == 60


def test_dotenv_fills_gaps_but_the_environment_wins(clean_environment, monkeypatch):
    project = clean_environment / "project"
    project.mkdir()
    (project / ".env").write_text("MAX_UPLOAD_MB=7\nJWT_EXPIRES_MINUTES=15\n")
    monkeypatch.setenv("JWT_EXPIRES_MINUTES", "30")
    settings = load_config("testing")
    assert settings.MAX_UPLOAD_MB == 7
    assert settings.JWT_EXPIRES_MINUTES == 30

"""deploy/: the container's start sequence and the systemd units' commands run here on a fresh database, the
nginx site agrees with the app's settings, and compose.yaml validates where a compose tool is installed."""
from __future__ import annotations

import json
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path

from config import load_config
from tests.e2e.servers import (
    REPO,
    VENV_BIN,
    free_port,
    http,
    job_outcome,
    missing_tools,
    queue_a_job,
    redis_server,
    require,
    running,
    wait_until_up,
)

DEPLOY = REPO / "deploy"
UNIT_ROOT = "/opt/retail-analytics"
COMPOSE_SERVICES = {"app", "worker", "mariadb", "redis", "nginx"}


def production_env(tmp_path: Path, **extra: str) -> dict:
    """What an operator puts in /etc/retail-analytics.env, on a fresh SQLite file."""
    return {"SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "UPLOAD_DIR": str(tmp_path / "uploads"), "RETENTION_THREAD": "false", "LOG_LEVEL": "WARNING",
            "GUNICORN_WORKERS": "2", "REDIS_URL": "", **extra}


def dockerfile_json(instruction: str) -> list[str]:
    match = re.search(rf"^{instruction} (\[.*\])$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert match, f"no exec-form {instruction} in the Dockerfile"
    return json.loads(match.group(1))


def test_dockerfile_is_slim_python_311_non_root_and_migrates_before_gunicorn():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(rf"useradd .*\b{users[-1]}\b", text)
    assert dockerfile_json("ENTRYPOINT") == ["/app/deploy/entrypoint.sh"]
    assert dockerfile_json("CMD")[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert "/api/health" in text  # HEALTHCHECK asks the readiness route, which knows the schema


def container_command(tmp_path: Path) -> tuple[list[str], dict]:
    """ENTRYPOINT + CMD of the image, run from this checkout with the image's environment."""
    entrypoint = [arg.replace("/app/", f"{REPO}/") for arg in dockerfile_json("ENTRYPOINT")]
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "APP_ENV": "production", **production_env(tmp_path)}
    return entrypoint + dockerfile_json("CMD"), env


def test_the_container_start_migrates_a_fresh_database_then_serves(tmp_path):
    command, env = container_command(tmp_path)
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    log = tmp_path / "container.log"
    with running(command, env, log) as proc:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, log)
        status, _headers, body = http("GET", f"http://127.0.0.1:{port}/api/health")
        assert status == 200, body
        registered = http("POST", f"http://127.0.0.1:{port}/api/auth/register", json.dumps(
            {"username": "boxed", "email": "boxed@example.com", "password": "a long passphrase"}).encode(),
            {"Content-Type": "application/json"})
        assert registered[0] == 201, registered[2]


def test_the_entrypoint_stops_when_migrations_fail(tmp_path):
    command, env = container_command(tmp_path)
    env["DATABASE_URL"] = "mysql+pymysql://root@127.0.0.1:1/none"
    marker = tmp_path / "served"
    result = subprocess.run([command[0], "touch", str(marker)], env=env, capture_output=True, timeout=120)
    assert result.returncode != 0
    assert not marker.exists()
    ok = subprocess.run([command[0], "sh", "-c", "exit 7"], env=container_command(tmp_path)[1], timeout=120)
    assert ok.returncode == 7  # the command's own exit status is the container's


def unit(name: str, wanted: str = "Service") -> dict[str, list[str]]:
    """The settings of one section of a unit file: key -> values in order."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == wanted and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def unit_command(line: str, env: dict) -> list[str]:
    """A unit's command line as systemd runs it: ${VAR} from the unit's environment, code here, not in /opt."""
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
    return [arg.replace(UNIT_ROOT, str(REPO)) for arg in shlex.split(line)]


def unit_env(settings: dict, env_file: dict) -> dict:
    env = {"PATH": "/usr/bin:/bin", **env_file}
    for assignment in settings.get("Environment", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    return env


def test_units_read_one_environment_file_and_run_from_the_install_folder():
    api, worker = unit("retail-analytics.service"), unit("retail-analytics-worker.service")
    for settings in (api, worker):
        assert settings["EnvironmentFile"] == ["/etc/retail-analytics.env"]  # the same environment for both
        assert settings["WorkingDirectory"] == [UNIT_ROOT]
        assert settings["User"] != ["root"]
    assert "migrate.py" in api["ExecStartPre"][0]
    # the worker starts after the API, whose start migrates the database
    assert "retail-analytics.service" in unit("retail-analytics-worker.service", "Unit")["After"][0].split()


def test_the_units_commands_migrate_serve_and_run_queued_jobs(tmp_path):
    require("redis-server")
    api, worker = unit("retail-analytics.service"), unit("retail-analytics-worker.service")
    port = free_port()
    with redis_server(tmp_path) as redis_url:
        env_file = production_env(tmp_path, REDIS_URL=redis_url, GUNICORN_BIND=f"127.0.0.1:{port}")
        api_env, worker_env = unit_env(api, env_file), unit_env(worker, env_file)
        cwd = Path(api["WorkingDirectory"][0].replace(UNIT_ROOT, str(REPO)))
        migrated = subprocess.run(unit_command(api["ExecStartPre"][0], api_env), cwd=cwd, env=api_env,
                                  capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        base = f"http://127.0.0.1:{port}"
        with running(unit_command(api["ExecStart"][0], api_env), api_env, tmp_path / "api.log", cwd) as proc, \
                running(unit_command(worker["ExecStart"][0], worker_env), worker_env, tmp_path / "worker.log", cwd):
            wait_until_up(base + "/health", proc, tmp_path / "api.log")
            assert http("GET", base + "/api/health")[0] == 200
            job = queue_a_job(base)
            assert job_outcome(base, job) == "finished", (tmp_path / "worker.log").read_text()[-3000:]


def nginx_setting(name: str) -> str:
    match = re.search(rf"^\s*{name} ([^;]+);", (DEPLOY / "nginx" / "retail.conf").read_text(), re.M)
    assert match, name
    return match.group(1)


def test_the_nginx_site_agrees_with_the_app_settings(monkeypatch):
    for name in ("MAX_UPLOAD_MB", "CORS_ORIGINS", "GUNICORN_TIMEOUT", "GUNICORN_BIND", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_config("development")
    assert nginx_setting("client_max_body_size") == f"{settings.MAX_UPLOAD_MB + 1}m"
    gunicorn_conf = {}
    exec(compile((REPO / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), gunicorn_conf)  # noqa: S102
    assert nginx_setting("server") == gunicorn_conf["bind"]
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        assert int(nginx_setting(timeout).rstrip("s")) > gunicorn_conf["timeout"]
    assert nginx_setting("listen") == "8080"
    site = (DEPLOY / "nginx" / "retail.conf").read_text()
    origins = set(re.findall(r'^\s*"(https?://[^"]+)"\s+\$http_origin;', site, re.M))
    assert origins == set(settings.CORS_ORIGINS)
    assert f'the {settings.MAX_UPLOAD_MB} MB upload limit' in site
    for status in (413, 502, 503, 504):
        assert re.search(rf"^\s*{status}\s+'\"type\": \"/problems/", site, re.M), status
    assert re.search(r"error_page 413 502 503 504 @problem;", site)
    assert "add_header Access-Control-Allow-Origin $retail_cors_origin always;" in site


def compose_tool() -> list[str] | None:
    """`docker compose` (the plugin) or Debian's docker-compose, whichever is installed."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_validates_with_its_services_volume_and_health_checks(tmp_path):
    tool = compose_tool()
    if tool is None:
        missing_tools("no docker compose plugin or docker-compose here (Debian 12 packages only docker-compose 1.29, "
                    "which .ci/run installs)")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "SECRET_KEY": "s" * 48, "DB_PASSWORD": "pw"}
    compose = [*tool, "-f", str(DEPLOY / "compose.yaml")]

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*compose, *args], capture_output=True, text=True, timeout=60, **kwargs)

    services = run("config", "--services", env=env)
    assert services.returncode == 0, services.stderr
    assert set(services.stdout.split()) == COMPOSE_SERVICES
    assert "uploads" in run("config", "--volumes", env=env).stdout.split()
    rendered = run("config", env=env).stdout
    blocks = dict(re.findall(r"^  ([a-z]+):\n((?:    .*\n|  \s*\n)+)", rendered.split("\nvolumes:")[0], re.M))
    assert set(blocks) == COMPOSE_SERVICES
    for name, block in blocks.items():
        assert "healthcheck:" in block, name
    for name in ("app", "worker"):
        assert "uploads" in blocks[name] and "/data/uploads" in blocks[name], name
        assert "SECRET_KEY: " + "s" * 48 in blocks[name], name
    missing_secret = run("config", env={k: v for k, v in env.items() if k != "SECRET_KEY"})
    assert missing_secret.returncode != 0 and "SECRET_KEY" in missing_secret.stderr

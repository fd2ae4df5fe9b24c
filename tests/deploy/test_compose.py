"""compose.yaml: validated by docker-compose (1.29, Debian's `docker-compose`), which needs no Docker engine.

The assertions read the configuration as docker-compose resolves it (`config`: anchors, merges and
variable defaults applied), not the raw file.

Run: <project python> -m pytest -q tests/deploy
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"

INFRA = {"postgres", "rabbitmq", "jaeger"}
CRITICLOOP = {"api", "orchestrator", "generation", "judging", "reward", "training", "evaluation"}
GPU_WORKERS = {"generation", "judging", "training", "evaluation"}
ONE_SHOT = {"demo"}
REQUIRED = INFRA | CRITICLOOP | ONE_SHOT


def _compose_env() -> dict[str, str]:
    # The user's own COMPOSE_* settings (COMPOSE_FILE, COMPOSE_PROFILES, ...) must not change what is tested.
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}


@pytest.fixture(scope="module")
def docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail(
            "docker-compose is not installed, so compose.yaml cannot be validated: install Debian's "
            "package (apt-get update && apt-get install -y docker-compose); it needs no Docker engine",
            pytrace=False,
        )
    return exe


def _config(docker_compose: str, *profile_args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), *profile_args, "config"],
        cwd=REPO_ROOT,
        env=_compose_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def resolved(docker_compose: str) -> dict:
    proc = _config(docker_compose)
    assert proc.returncode == 0, f"docker-compose config failed ({proc.returncode}):\n{proc.stderr}"
    return yaml.safe_load(proc.stdout)


@pytest.fixture(scope="module")
def services(resolved: dict) -> dict:
    return resolved["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _gpu_devices(service: dict) -> list[dict]:
    devices = (
        service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", []) or []
    )
    return [d for d in devices if "gpu" in (d.get("capabilities") or [])]


def _base_name(name: str) -> str:
    return name.removesuffix("-gpu")


def test_compose_config_is_valid(docker_compose: str) -> None:
    proc = _config(docker_compose)
    assert proc.returncode == 0, f"docker-compose -f compose.yaml config exited {proc.returncode}:\n{proc.stderr}"


def test_compose_gpu_profile_config_is_valid(docker_compose: str) -> None:
    proc = _config(docker_compose, "--profile", "gpu")
    assert proc.returncode == 0, f"docker-compose --profile gpu config exited {proc.returncode}:\n{proc.stderr}"
    services = yaml.safe_load(proc.stdout)["services"]
    gpu_variants = {n for n, s in services.items() if "gpu" in (s.get("profiles") or [])}
    assert {_base_name(n) for n in gpu_variants} == GPU_WORKERS, gpu_variants


def test_compose_names_every_service(services: dict) -> None:
    missing = REQUIRED - services.keys()
    assert not missing, f"compose.yaml lacks services: {sorted(missing)}"


def test_compose_every_server_has_a_healthcheck(services: dict) -> None:
    lacking = [
        name
        for name, svc in services.items()
        if name not in ONE_SHOT
        and (not svc.get("healthcheck") or svc["healthcheck"].get("disable") or not svc["healthcheck"].get("test"))
    ]
    assert not lacking, f"services without a health check: {lacking}"


def test_compose_criticloop_services_probe_their_http_endpoints(services: dict) -> None:
    for name, svc in services.items():
        if _base_name(name) not in CRITICLOOP:
            continue
        test = " ".join((svc.get("healthcheck") or {}).get("test") or [])
        port = "8080" if name == "api" else "9090"
        assert re.search(rf"127\.0\.0\.1:{port}/(healthz|readyz)", test), f"{name}: {test}"


def test_compose_healthcheck_tool_is_in_the_runtime_image(services: dict) -> None:
    # The criticloop health checks run inside the criticloop image: the tool they call must be installed
    # in the Dockerfile's last (runtime) stage.
    stages = re.split(r"(?im)^FROM\s", DOCKERFILE.read_text())
    runtime = stages[-1]
    tests = [(svc.get("healthcheck") or {}).get("test") or [""] for name, svc in services.items() if _base_name(name) in CRITICLOOP]
    tools = {test[1] for test in tests if test[0] == "CMD"}
    assert tools, "no CMD-form health checks found"
    for tool in tools:
        assert re.search(rf"apt-get install[^\n]*(\\\n[^\n]*)*\b{re.escape(tool)}\b", runtime), (
            f"health checks call {tool!r} but the Dockerfile's runtime stage does not install it"
        )


def test_compose_criticloop_services_export_otlp_to_jaeger(services: dict) -> None:
    for name, svc in services.items():
        if _base_name(name) in CRITICLOOP | ONE_SHOT:
            env = _env(svc)
            assert env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://jaeger:4318", f"{name}: {env}"
            assert env.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf", name
            assert env.get("OTEL_SERVICE_NAME"), name
    jaeger_env = _env(services["jaeger"])
    assert jaeger_env.get("COLLECTOR_OTLP_ENABLED") == "true"
    published = {str(p.get("target")) for p in services["jaeger"].get("ports", [])}
    assert {"4317", "4318", "16686"} <= published, published


def test_compose_services_start_after_their_dependencies_are_healthy(services: dict) -> None:
    for name, svc in services.items():
        if _base_name(name) not in CRITICLOOP:
            continue
        deps = svc.get("depends_on") or {}
        for dep in ("postgres", "rabbitmq"):
            assert deps.get(dep, {}).get("condition") == "service_healthy", f"{name} -> {dep}: {deps}"
    demo_deps = services["demo"].get("depends_on") or {}
    assert demo_deps.get("api", {}).get("condition") == "service_healthy", demo_deps


def test_compose_every_service_runs_its_binary_from_the_one_image(services: dict) -> None:
    images = set()
    for name, svc in services.items():
        base = _base_name(name)
        if base not in CRITICLOOP | ONE_SHOT:
            continue
        assert svc.get("build"), f"{name} has no build section"
        assert Path(svc["build"]["context"]).resolve() == REPO_ROOT, svc["build"]
        images.add(svc.get("image"))
        command = svc["command"]
        if base in CRITICLOOP:
            assert command[0] == f"criticloop-{base}", f"{name}: {command}"
    assert len(images) == 1, f"criticloop services use several images: {images}"
    assert services["demo"]["command"] == ["criticloop", "demo", "--api-url", "http://api:8080"]
    assert services["demo"].get("restart", "no") == "no"


def test_compose_workers_name_their_backend_and_share_the_artifact_volume(resolved: dict) -> None:
    services = resolved["services"]
    assert "artifacts" in (resolved.get("volumes") or {}), "no named artifacts volume"
    for name, svc in services.items():
        base = _base_name(name)
        env = _env(svc)
        if base in GPU_WORKERS:
            # the backend has no default in the services: compose must name it
            assert env.get("CRITICLOOP_BACKEND__KIND") in {"fake", "tch", "openai"}, f"{name}: {env}"
        if base in GPU_WORKERS | {"reward", "api"}:
            mounts = [str(v) if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in svc.get("volumes", [])]
            root = env.get("CRITICLOOP_ARTIFACTS__ROOT")
            assert root, f"{name} has no CRITICLOOP_ARTIFACTS__ROOT"
            assert any(m.startswith(f"artifacts:{root}") for m in mounts), f"{name}: {mounts}"
        if base in CRITICLOOP:
            assert env.get("CRITICLOOP_DATABASE__URL", "").startswith("postgres://"), name
            assert env.get("CRITICLOOP_BROKER__URL", "").startswith("amqp://"), name


def test_compose_gpus_are_reserved_only_behind_the_gpu_profile(services: dict) -> None:
    for name, svc in services.items():
        profiles = svc.get("profiles") or []
        if _gpu_devices(svc):
            assert "gpu" in profiles, f"{name} reserves a GPU outside the gpu profile: plain `up` needs one"
            assert all(d.get("driver") == "nvidia" for d in _gpu_devices(svc)), name
        elif "gpu" in profiles:
            pytest.fail(f"{name} is in the gpu profile but reserves no GPU")
    for worker in GPU_WORKERS:
        assert _gpu_devices(services[f"{worker}-gpu"]), f"{worker}-gpu reserves no GPU"
        assert not services[worker].get("profiles"), f"{worker} must start with a plain `docker compose up`"

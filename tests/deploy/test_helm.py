"""helm/criticloop: linted and rendered with Helm's own library (Python package `helm-python-sdk`, which
bundles Helm v4; no helm binary and no cluster).

Run: <project python> -m pytest -q tests/deploy
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "helm" / "criticloop"

SERVICES = {"api", "orchestrator", "generation", "judging", "reward", "training", "evaluation"}
GPU_WORKERS = {"generation", "judging", "training", "evaluation"}
# worker -> the queues it consumes (without the prefix)
QUEUES = {
    "generation": ["generate"],
    "judging": ["judge", "backlog"],
    "reward": ["aggregate"],
    "training": ["train"],
    "evaluation": ["evaluate", "agreement"],
}

# Distinctive secret values: none of them (nor their base64) may show up outside a Secret.
SECRET_DB = "postgres://cl:db-pw-3b9f1e7c5a@pg.example:5432/criticloop"
SECRET_BROKER = "amqp://cl:amqp-pw-8d2c4a6e1f@mq.example:5672/%2f"
SECRET_TOKENS = "tok-5e8a1c9d3b7f,tok-2f4b6d8a0c1e"
SECRET_MGMT = "http://cl:mgmt-pw-9a7c5e3b1d@mq.example:15672/%2f"
SECRET_EXTRA = "sk-extra-4c6e8a0b2d"
SECRETS = {
    "databaseUrl": SECRET_DB,
    "brokerUrl": SECRET_BROKER,
    "apiTokens": SECRET_TOKENS,
    "brokerManagementUrl": SECRET_MGMT,
    "extra": {"OPENAI_API_KEY": SECRET_EXTRA},
}
SECRET_STRINGS = [SECRET_DB, SECRET_BROKER, SECRET_TOKENS, SECRET_MGMT, SECRET_EXTRA, "db-pw-3b9f1e7c5a", "amqp-pw-8d2c4a6e1f", "mgmt-pw-9a7c5e3b1d"]

DEFAULT_VALUES: dict = {}
GPU_KEDA_VALUES: dict = {
    "gpu": {"enabled": True, "nodeSelector": {"nvidia.com/gpu.present": "true"}},
    "keda": {"enabled": True},
    "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "cl-tls", "hosts": ["criticloop.local"]}]},
    "otel": {"endpoint": "http://otel-collector.observability:4318"},
    "secrets": copy.deepcopy(SECRETS),
}
VALUE_SETS = {"default": DEFAULT_VALUES, "gpu+keda": GPU_KEDA_VALUES}


@pytest.fixture(scope="module")
def helm():
    try:
        import helm_python
    except ImportError as exc:
        pytest.fail(
            f"helm_python is not importable ({exc}): install the PyPI package helm-python-sdk into the "
            "project's Python (scripts/requirements.txt lists it; scripts/setup builds that environment)",
            pytrace=False,
        )
    return helm_python


def _render(helm, values: dict) -> dict[str, str]:
    with helm.Chart.load(str(CHART)) as chart:
        return chart.render(copy.deepcopy(values), name="cl", namespace="criticloop")


def _objects(rendered: dict[str, str]) -> list[dict]:
    objects = []
    for path, text in rendered.items():
        if path.endswith(".txt"):  # NOTES.txt is text, not a manifest
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append(doc)
    return objects


def _of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def _component(obj: dict) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def _deployments(objects: list[dict]) -> dict[str, dict]:
    return {_component(d): d for d in _of_kind(objects, "Deployment")}


def _assert_lint_clean(report: dict) -> None:
    assert report["total_charts_linted"] == 1, f"the chart was not linted: {report}"
    assert report["errors"] == [], "\n".join(report["errors"])
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert not serious, serious


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_lint_passes(helm, values: dict) -> None:
    # strict: warnings count as errors too
    _assert_lint_clean(helm.lint(str(CHART), copy.deepcopy(values) or None, strict=True))


def test_helm_lint_reports_a_broken_chart(helm, tmp_path: Path) -> None:
    # guards the lint tests above: lint returns findings as data, so a check that looks at the wrong field
    # would pass on anything
    broken = tmp_path / "criticloop"
    broken.mkdir()
    (broken / "Chart.yaml").write_text((CHART / "Chart.yaml").read_text())
    (broken / "templates").mkdir()
    (broken / "templates" / "bad.yaml").write_text("{{ .Values.nope.deeper }}\n")
    report = helm.lint(str(broken))
    assert report["errors"], report
    assert helm.lint(str(tmp_path / "missing"))["total_charts_linted"] == 0


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_renders_manifests_that_parse(helm, values: dict) -> None:
    rendered = _render(helm, values)
    assert rendered, "nothing rendered"
    objects = _objects(rendered)
    for obj in objects:
        assert obj.get("apiVersion") and obj.get("kind") and obj.get("metadata", {}).get("name"), obj
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "ConfigMap", "Secret", "Service", "PodDisruptionBudget"} <= kinds, kinds
    assert set(_deployments(objects)) == SERVICES
    assert {_component(p) for p in _of_kind(objects, "PodDisruptionBudget")} == SERVICES
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_every_deployment_has_probes_and_resources(helm, values: dict) -> None:
    for name, deploy in _deployments(_objects(_render(helm, values))).items():
        pod = deploy["spec"]["template"]["spec"]
        port_names = set()
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            assert container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", where
            assert container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", where
            resources = container.get("resources") or {}
            assert resources.get("requests") and resources.get("limits"), f"{where}: {resources}"
            port_names.update((p["name"], p["containerPort"]) for p in container.get("ports", []))
        expected = ("http", 8080) if name == "api" else ("health", 9090)
        assert expected in port_names, f"{name}: {port_names}"
        # the selector picks this Deployment's pods only
        labels = deploy["spec"]["template"]["metadata"]["labels"]
        for key, value in deploy["spec"]["selector"]["matchLabels"].items():
            assert labels.get(key) == value, name
        assert deploy["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == name


def _gpus(deploy: dict) -> list:
    return [
        c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
        for c in deploy["spec"]["template"]["spec"]["containers"]
    ]


def test_helm_gpu_workers_request_gpus_only_when_enabled(helm) -> None:
    enabled = _deployments(_objects(_render(helm, GPU_KEDA_VALUES)))
    disabled = _deployments(_objects(_render(helm, DEFAULT_VALUES)))
    for name in SERVICES:
        if name in GPU_WORKERS:
            assert _gpus(enabled[name]) == [1], f"{name}: {_gpus(enabled[name])}"
            pod = enabled[name]["spec"]["template"]["spec"]
            assert pod["nodeSelector"].get("nvidia.com/gpu.present") == "true", name
            assert any(t.get("key") == "nvidia.com/gpu" for t in pod.get("tolerations", [])), name
        else:
            assert _gpus(enabled[name]) == [None], f"{name} is not a GPU worker"
        assert _gpus(disabled[name]) == [None], f"{name} requests a GPU with gpu.enabled=false"
        assert not disabled[name]["spec"]["template"]["spec"].get("tolerations"), name


def test_helm_backend_kind_is_set_for_model_workers(helm) -> None:
    for name, deploy in _deployments(_objects(_render(helm, DEFAULT_VALUES))).items():
        env = {e["name"]: e for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
        if name in GPU_WORKERS:
            assert env["CRITICLOOP_BACKEND__KIND"]["value"] in {"fake", "tch", "openai"}, name
        else:
            assert "CRITICLOOP_BACKEND__KIND" not in env, name
        listen = "CRITICLOOP_API__LISTEN" if name == "api" else "CRITICLOOP_HEALTH__LISTEN"
        assert env[listen]["value"] == ("0.0.0.0:8080" if name == "api" else "0.0.0.0:9090"), name


def test_helm_keda_scaled_objects_only_when_enabled(helm) -> None:
    assert not [o for o in _objects(_render(helm, DEFAULT_VALUES)) if o["apiVersion"].startswith("keda.sh/")]

    objects = _objects(_render(helm, GPU_KEDA_VALUES))
    scaled = {_component(o): o for o in _of_kind(objects, "ScaledObject")}
    assert set(scaled) == set(QUEUES), set(scaled)
    auths = {o["metadata"]["name"]: o for o in _of_kind(objects, "TriggerAuthentication")}
    deployments = _deployments(objects)
    for name, obj in scaled.items():
        assert obj["spec"]["scaleTargetRef"]["name"] == deployments[name]["metadata"]["name"]
        triggers = obj["spec"]["triggers"]
        assert [t["metadata"]["queueName"] for t in triggers] == [f"criticloop.{q}" for q in QUEUES[name]]
        for trigger in triggers:
            assert trigger["type"] == "rabbitmq"
            meta = trigger["metadata"]
            assert meta["protocol"] == "http", "only the management API counts unacknowledged messages"
            assert meta["mode"] == "QueueLength"
            assert meta.get("excludeUnacknowledged", "false") == "false"
            assert all(isinstance(v, str) for v in meta.values()), f"KEDA metadata must be strings: {meta}"
            auth = auths[trigger["authenticationRef"]["name"]]
            (ref,) = auth["spec"]["secretTargetRef"]
            assert ref["parameter"] == "host"
        # KEDA owns the replica count of the Deployments it scales
        assert "replicas" not in deployments[name]["spec"], name
    assert "replicas" in deployments["api"]["spec"]


def test_helm_no_secret_value_in_any_configmap(helm) -> None:
    for values in (GPU_KEDA_VALUES, {"secrets": copy.deepcopy(SECRETS), "config": {"extraEnv": {"FOO": "bar"}}}):
        objects = _objects(_render(helm, values))
        configmaps = _of_kind(objects, "ConfigMap")
        assert configmaps
        for obj in objects:
            if obj["kind"] == "Secret":
                continue
            text = yaml.safe_dump(obj)
            for secret in SECRET_STRINGS:
                encoded = base64.b64encode(secret.encode()).decode()
                assert secret not in text and encoded not in text, (
                    f"{obj['kind']}/{obj['metadata']['name']} contains a secret value ({secret})"
                )


def test_helm_secret_holds_the_secret_values(helm) -> None:
    objects = _objects(_render(helm, GPU_KEDA_VALUES))
    (secret,) = _of_kind(objects, "Secret")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(data.values()) >= {SECRET_DB, SECRET_BROKER, SECRET_TOKENS, SECRET_MGMT, SECRET_EXTRA}
    for name, deploy in _deployments(objects).items():
        container = deploy["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        for var in ("CRITICLOOP_DATABASE__URL", "CRITICLOOP_BROKER__URL"):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"] and ref["key"] in data, f"{name}: {var}"
        if name == "api":
            assert data[env["CRITICLOOP_API__TOKENS"]["valueFrom"]["secretKeyRef"]["key"]] == SECRET_TOKENS


def test_helm_generates_api_tokens_when_none_given(helm) -> None:
    (secret,) = _of_kind(_objects(_render(helm, DEFAULT_VALUES)), "Secret")
    token = base64.b64decode(secret["data"]["api-tokens"]).decode()
    assert len(token) >= 32, "a generated API token should be long"


def test_helm_existing_secret_renders_no_secret(helm) -> None:
    values = copy.deepcopy(GPU_KEDA_VALUES)
    values["secrets"]["existingSecret"] = "criticloop-prod"
    objects = _objects(_render(helm, values))
    assert not _of_kind(objects, "Secret"), "existingSecret set, yet the chart renders a Secret"
    refs = []
    for deploy in _deployments(objects).values():
        for container in deploy["spec"]["template"]["spec"]["containers"]:
            refs += [e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e]
    assert refs and set(refs) == {"criticloop-prod"}, set(refs)
    (auth,) = _of_kind(objects, "TriggerAuthentication")
    assert auth["spec"]["secretTargetRef"][0]["name"] == "criticloop-prod"


def test_helm_otlp_endpoint_and_config_reach_every_deployment(helm) -> None:
    objects = _objects(_render(helm, GPU_KEDA_VALUES))
    (configmap,) = _of_kind(objects, "ConfigMap")
    assert configmap["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert configmap["data"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert configmap["data"]["CRITICLOOP_BROKER__PREFIX"] == "criticloop"
    for name, deploy in _deployments(objects).items():
        container = deploy["spec"]["template"]["spec"]["containers"][0]
        sources = [s.get("configMapRef", {}).get("name") for s in container.get("envFrom", [])]
        assert configmap["metadata"]["name"] in sources, name
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["OTEL_SERVICE_NAME"] == name


def test_helm_api_service_and_optional_ingress(helm) -> None:
    default = _objects(_render(helm, DEFAULT_VALUES))
    assert not _of_kind(default, "Ingress")
    (service,) = _of_kind(default, "Service")
    api = _deployments(default)["api"]
    assert all(api["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in service["spec"]["selector"].items())
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    (ingress,) = _of_kind(_objects(_render(helm, GPU_KEDA_VALUES)), "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_helm_schema_rejects_an_unknown_backend(helm) -> None:
    report = helm.lint(str(CHART), {"backend": {"kind": "gpt"}})
    assert any("/backend/kind" in e for e in report["errors"]), report
    with pytest.raises(helm.HelmValuesError):
        _render(helm, {"backend": {"kind": "gpt"}})


S3_KEY_ID = "AKIA-artifacts-7e1d3c5a"
S3_SECRET = "s3-secret-9b2f4d6a8c"
S3_VALUES: dict = {
    "artifacts": {"kind": "s3", "s3": {"bucket": "cl-artifacts", "endpoint": "http://minio:9000", "allowHttp": True}},
    "secrets": {"artifactsAccessKeyId": S3_KEY_ID, "artifactsSecretAccessKey": S3_SECRET},
}


def test_helm_artifact_store_s3_settings_in_configmap_and_keys_only_in_the_secret(helm) -> None:
    _assert_lint_clean(helm.lint(str(CHART), copy.deepcopy(S3_VALUES)))
    objects = _objects(_render(helm, S3_VALUES))
    (configmap,) = _of_kind(objects, "ConfigMap")
    data = configmap["data"]
    assert data["CRITICLOOP_ARTIFACTS__KIND"] == "s3"
    assert data["CRITICLOOP_ARTIFACTS__BUCKET"] == "cl-artifacts"
    assert data["CRITICLOOP_ARTIFACTS__ENDPOINT"] == "http://minio:9000"
    assert data["CRITICLOOP_ARTIFACTS__ALLOW_HTTP"] == "true"
    text = yaml.safe_dump(configmap)
    for secret in (S3_KEY_ID, S3_SECRET, base64.b64encode(S3_SECRET.encode()).decode()):
        assert secret not in text
    (secret,) = _of_kind(objects, "Secret")
    assert base64.b64decode(secret["data"]["artifacts-secret-access-key"]).decode() == S3_SECRET
    api = _deployments(objects)["api"]
    env = {e["name"]: e for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CRITICLOOP_ARTIFACTS__SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "artifacts-secret-access-key"
    default = _of_kind(_objects(_render(helm, DEFAULT_VALUES)), "ConfigMap")[0]["data"]
    assert default["CRITICLOOP_ARTIFACTS__KIND"] == "local"
    assert "CRITICLOOP_ARTIFACTS__BUCKET" not in default


def _artifact_volumes(deploy: dict) -> tuple[list[dict], list[dict]]:
    """The deployment's artifact-store volumes and the mounts of them in its containers."""
    pod = deploy["spec"]["template"]["spec"]
    volumes = [v for v in pod.get("volumes", []) if v["name"] == "artifacts"]
    mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] == "artifacts"]
    return volumes, mounts


def test_helm_s3_artifact_store_mounts_no_local_volume(helm) -> None:
    users = {"api", "generation", "judging", "reward", "training", "evaluation"}
    # local (the default): every service that uses the store mounts the claim at the root it is told
    objects = _objects(_render(helm, DEFAULT_VALUES))
    (claim,) = _of_kind(objects, "PersistentVolumeClaim")
    deployments = _deployments(objects)
    mounting = {name for name, d in deployments.items() if _artifact_volumes(d) != ([], [])}
    assert mounting == users, mounting
    for name in mounting:
        volumes, mounts = _artifact_volumes(deployments[name])
        assert volumes[0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"], name
        env = {e["name"]: e.get("value") for e in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["CRITICLOOP_ARTIFACTS__ROOT"] == mounts[0]["mountPath"], name

    # s3: no claim, no volume, no mount, no root; the credentials still reach the services
    objects = _objects(_render(helm, S3_VALUES))
    assert _of_kind(objects, "PersistentVolumeClaim") == []
    for name, deploy in _deployments(objects).items():
        assert _artifact_volumes(deploy) == ([], []), f"{name} mounts the local artifact volume with an s3 store"
        env = {e["name"] for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert "CRITICLOOP_ARTIFACTS__ROOT" not in env, name
        if name in mounting:
            assert "CRITICLOOP_ARTIFACTS__ACCESS_KEY_ID" in env, name

"""The Kubernetes manifests are valid, locked down, and run exactly one engine with SQLite."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from ._support import REPO, explain, load_yaml_documents, run, tool

K8S = REPO / "k8s"
SCALE_OVERLAY = REPO / "deploy" / "k8s-overlays" / "scale"
MANIFESTS = sorted(K8S.glob("*.yaml"))
# Oldest Kubernetes minor version the manifests are checked against, besides the newest.
OLDEST_SUPPORTED = "1.29.0"


def _kustomize(directory) -> str:
    result = run([tool("kubectl"), "kustomize", str(directory)])
    assert result.returncode == 0, explain(result)
    return result.stdout


def _validate(paths, version=None) -> subprocess.CompletedProcess:
    args = [tool("kubernetes-validate"), "--strict", "--quiet"]
    if version:
        args += ["--kubernetes-version", version]
    return run(args + [str(p) for p in paths])


@pytest.fixture(scope="module")
def objects() -> dict[str, dict]:
    return {doc["kind"]: doc for path in MANIFESTS for doc in load_yaml_documents(path)}


@pytest.fixture(scope="module")
def deployment(objects) -> dict:
    return objects["Deployment"]


@pytest.fixture(scope="module")
def container(deployment) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", [None, OLDEST_SUPPORTED])
def test_every_manifest_passes_strict_schema_validation(version):
    paths = MANIFESTS + [K8S / "secret.yaml.example"]
    result = _validate(paths, version)
    assert result.returncode == 0, explain(result)


@pytest.mark.parametrize("directory", [K8S, SCALE_OVERLAY], ids=["base", "scale-overlay"])
def test_kustomize_output_passes_strict_schema_validation(directory, tmp_path):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(_kustomize(directory))
    result = _validate([rendered])
    assert result.returncode == 0, explain(result)


def test_kustomization_lists_every_manifest_and_kubectl_apply_f_skips_it():
    kustomization = yaml.safe_load((K8S / "Kustomization").read_text())
    assert kustomization["resources"] == [p.name for p in MANIFESTS]
    assert not list(K8S.glob("kustomization.y*ml"))


def test_apply_f_order_creates_the_namespace_first():
    assert MANIFESTS[0].name == "00-namespace.yaml"


def test_every_object_lives_in_the_miniature_office_namespace(objects):
    for kind, obj in objects.items():
        if kind != "Namespace":
            assert obj["metadata"]["namespace"] == "miniature-office", kind


def test_secret_is_only_a_template():
    assert not [p for p in MANIFESTS if any(d["kind"] == "Secret" for d in load_yaml_documents(p))]
    (secret,) = load_yaml_documents(K8S / "secret.yaml.example")
    assert secret["stringData"]["SECRET_KEY"].startswith("<replace")


def test_single_engine_runs_one_replica_recreated(deployment):
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_configmap_runs_one_worker_without_a_message_queue(objects):
    data = objects["ConfigMap"]["data"]
    assert data["MINIOFFICE_WORKERS"] == "1"
    assert "MESSAGE_QUEUE" not in data
    assert data["MINIOFFICE_DATA_DIR"] == "/data"
    assert data["MINIOFFICE_HOST"] == "0.0.0.0"


def test_pod_runs_as_non_root_with_runtime_default_seccomp(deployment):
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False


def test_container_drops_all_capabilities_on_a_read_only_root(container):
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_data_directory_is_a_writable_persistent_volume(deployment, container, objects):
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["data"] == "/data"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert objects["PersistentVolumeClaim"]["metadata"]["name"] == claim
    assert objects["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "emptyDir" in volumes[next(k for k, v in mounts.items() if v == "/tmp")]


def test_probes_use_the_live_and_ready_endpoints(container):
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_container_has_resource_requests_and_limits(container):
    resources = container["resources"]
    for kind in ("requests", "limits"):
        assert set(resources[kind]) == {"cpu", "memory"}, kind


def test_configuration_comes_from_the_configmap_and_secret(container, objects):
    refs = container["envFrom"]
    assert {"configMapRef": {"name": objects["ConfigMap"]["metadata"]["name"]}} in refs
    assert {"secretRef": {"name": "miniature-office-secrets"}} in refs


def test_pods_are_annotated_for_prometheus(deployment):
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "8000"
    assert annotations["prometheus.io/path"] == "/metrics"


def test_service_selects_the_pods_with_client_affinity(objects, deployment):
    service = objects["Service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress_supports_websockets_with_sticky_sessions(objects):
    ingress = objects["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert ingress["spec"]["tls"]


def test_ingress_rate_limits_every_client_at_the_edge(objects):
    # The app exempts its cheap cached reads from its own limiter: the ingress limits them.
    annotations = objects["Ingress"]["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert int(annotations["nginx.ingress.kubernetes.io/limit-burst-multiplier"]) >= 1


def test_disruption_budget_covers_the_pods(objects, deployment):
    pdb = objects["PodDisruptionBudget"]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_namespace_enforces_the_restricted_pod_security_standard(objects):
    labels = objects["Namespace"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_scale_overlay_adds_replicas_only_with_a_message_queue():
    rendered = {doc["kind"]: doc for doc in yaml.safe_load_all(_kustomize(SCALE_OVERLAY)) if doc}
    deployment = rendered["Deployment"]
    assert deployment["spec"]["replicas"] > 1
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert rendered["ConfigMap"]["data"]["MESSAGE_QUEUE"].startswith("redis://")
    assert "PersistentVolumeClaim" not in rendered
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert set(volumes["data"]) == {"name", "emptyDir"}

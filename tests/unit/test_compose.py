"""docker-compose.yml cannot run here (no Docker engine): check its structure statically."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_present(compose):
    assert set(compose["services"]) >= {"redis", "elasticsearch", "kibana", "setup", "parse", "enrich", "index",
                                        "flower", "producer"}


def test_one_worker_service_per_queue(compose):
    for stage in ("parse", "enrich", "index"):
        command = compose["services"][stage]["command"]
        assert f"-Q {stage}" in " ".join(command.split())


def test_same_stack_version_as_local_node_and_client(compose):
    import elasticsearch

    pom = (ROOT / "ops" / "elasticsearch" / "pom.xml").read_text()
    env_example = (ROOT / ".env.example").read_text()
    local_version = env_example.split("STACK_VERSION=")[1].split()[0]
    assert f"<es.version>{local_version}</es.version>" in pom
    for name in ("elasticsearch", "kibana"):
        assert compose["services"][name]["image"].endswith(f":${{STACK_VERSION:-{local_version}}}")
    assert elasticsearch.__versionstr__.split(".")[0] == local_version.split(".")[0]


def test_security_on_and_secrets_from_env(compose):
    es_env = compose["services"]["elasticsearch"]["environment"]
    assert es_env["xpack.security.enabled"] == "true"
    assert es_env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")
    assert "--requirepass" in compose["services"]["redis"]["command"]
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text()
    assert "REDIS_PASSWORD" in (ROOT / ".env.example").read_text()


def test_only_loopback_ports_are_published(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"


def test_healthchecks_and_dependencies(compose):
    services = compose["services"]
    for name in ("redis", "elasticsearch", "kibana"):
        assert "healthcheck" in services[name]
    for stage in ("parse", "enrich", "index"):
        deps = services[stage]["depends_on"]
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["elasticsearch"]["condition"] == "service_healthy"
        assert deps["setup"]["condition"] == "service_completed_successfully"
    assert services["producer"]["profiles"] == ["producer"]
    assert (ROOT / services["setup"]["command"][0]).exists()
    assert (ROOT / "Dockerfile").exists()

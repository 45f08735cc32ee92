"""docker-compose.yml cannot run here (no Docker engine): it is checked statically, against the
Compose Specification's JSON schema, after compose-style interpolation of ``.env.example`` and of
hostile passwords (tests/compose_files.py re-does what compose does to both files)."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib

import jsonschema
import pytest
import yaml

from tests.compose_files import (
    COMPOSE_SCHEMA,
    ENV_EXAMPLE,
    ROOT,
    InterpolationError,
    env_file_value,
    interpolate,
    load_compose,
    load_setup_module,
    parse_env_file,
)

pytestmark = pytest.mark.unit

SECRET_NAMES = ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "GLEANER_ES_WRITER_PASSWORD", "GLEANER_ES_ADMIN_PASSWORD",
                "REDIS_PASSWORD", "FLOWER_PASSWORD", "KIBANA_SECURITY_KEY", "KIBANA_SAVED_OBJECTS_KEY",
                "KIBANA_REPORTING_KEY")
# What `openssl rand -base64` gives and worse: every character the issue names, in every position.
HOSTILE = [
    "a/b#c?d%e@f:g$h'i\"j k-padding-to-32-characters!",
    "$HOME ${HOME} $$ \"quoted\" 'single' `tick` #hash-and-more-chars",
    "@:/?#%25 spaces  and a trailing space and more chars ",
    "\\back\\slash\\n and \\\" quote-escape and more characters",
    "pa:ss,wo=rd;&|<>(){}[]*~^!+ and more than 32 characters",
]


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(COMPOSE_SCHEMA.read_text())


@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    return parse_env_file(ENV_EXAMPLE.read_text())


def hostile_env(example_env: dict[str, str], k: int) -> dict[str, str]:
    """The example values with hostile secrets, each a different one, written into a .env file
    as .env.example says and read back as compose reads it."""
    env = dict(example_env)
    for i, name in enumerate(SECRET_NAMES):
        env[name] = HOSTILE[(i + k) % len(HOSTILE)] + f"-{name.lower()}"
    text = "\n".join(f"{k_}={env_file_value(v)}" for k_, v in env.items()) + "\n"
    read_back = parse_env_file(text)
    assert read_back == env, "a hostile value does not survive .env"
    return read_back


def validate(compose: dict, schema: dict) -> None:
    jsonschema.Draft7Validator(schema).validate(compose)  # the schema's $schema: draft-07


def test_schema_valid_as_written_and_interpolated(schema, example_env):
    validate(load_compose(), schema)  # as written, ${...} and all
    validate(load_compose(example_env), schema)


def test_schema_check_catches_a_broken_file(schema, example_env):
    compose = load_compose(example_env)
    compose["services"]["setup"]["depends_on"]["redis"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        validate(compose, schema)


@pytest.mark.parametrize("k", range(len(HOSTILE)))
def test_hostile_passwords_reach_the_services_exactly(schema, example_env, k):
    env = hostile_env(example_env, k)
    compose = load_compose(env)
    validate(compose, schema)
    secrets = {env[n] for n in SECRET_NAMES}
    services = compose["services"]
    for name, service in services.items():
        for part in ("command", "entrypoint"):
            text = json.dumps(service.get(part, ""))
            assert not [s for s in secrets if json.dumps(s)[1:-1] in text], f"{name}'s {part} holds a secret"
        assert not [s for s in secrets if json.dumps(s)[1:-1] in json.dumps(service.get("healthcheck", {}))]
    expected = {
        "elasticsearch": {"ELASTIC_PASSWORD": "ELASTIC_PASSWORD"},
        "redis": {"REDIS_PASSWORD": "REDIS_PASSWORD", "REDISCLI_AUTH": "REDIS_PASSWORD"},
        "setup": {"ELASTIC_PASSWORD": "ELASTIC_PASSWORD", "KIBANA_PASSWORD": "KIBANA_PASSWORD",
                  "GLEANER_ES_WRITER_PASSWORD": "GLEANER_ES_WRITER_PASSWORD",
                  "GLEANER_ES_ADMIN_PASSWORD": "GLEANER_ES_ADMIN_PASSWORD", "GLEANER_REDIS_PASSWORD": "REDIS_PASSWORD"},
        "kibana": {"KIBANA_SYSTEM_PASSWORD": "KIBANA_PASSWORD", "KIBANA_SECURITY_KEY": "KIBANA_SECURITY_KEY",
                   "KIBANA_SAVED_OBJECTS_KEY": "KIBANA_SAVED_OBJECTS_KEY",
                   "KIBANA_REPORTING_KEY": "KIBANA_REPORTING_KEY"},
        "kibana-import": {"GLEANER_KIBANA_PASSWORD": "GLEANER_ES_ADMIN_PASSWORD"},
        "flower": {"FLOWER_PASSWORD": "FLOWER_PASSWORD", "GLEANER_REDIS_PASSWORD": "REDIS_PASSWORD"},
        "producer": {"GLEANER_ES_PASSWORD": "GLEANER_ES_ADMIN_PASSWORD", "GLEANER_REDIS_PASSWORD": "REDIS_PASSWORD"},
        **{stage: {"GLEANER_ES_PASSWORD": "GLEANER_ES_WRITER_PASSWORD", "GLEANER_REDIS_PASSWORD": "REDIS_PASSWORD"}
           for stage in ("parse", "enrich", "index")},
    }
    for service, variables in expected.items():
        environment = services[service]["environment"]
        for var, source in variables.items():
            assert environment[var] == env[source], f"{service}: {var}"


def test_workers_redis_url_takes_any_password(example_env):
    import redis
    from kombu.utils.url import url_to_parts

    from workers.config import Settings

    env = hostile_env(example_env, 0)
    worker_env = load_compose(env)["services"]["parse"]["environment"]
    for password in HOSTILE:
        settings = Settings(redis_url=worker_env["GLEANER_REDIS_URL"], redis_password=password)
        assert url_to_parts(settings.redis_url).password == password  # kombu (the Celery broker)
        assert redis.ConnectionPool.from_url(settings.redis_url).connection_kwargs["password"] == password
        assert url_to_parts(settings.redis_url).hostname == "redis"


def test_missing_secret_stops_compose_with_its_name(example_env):
    env = {k: v for k, v in example_env.items() if k != "REDIS_PASSWORD"}
    with pytest.raises(InterpolationError, match="REDIS_PASSWORD"):
        load_compose(env)


def test_interpolation_rules():
    env = {"A": "x", "E": ""}
    assert interpolate("$$A ${A} $A ${B:-d} ${E:-d} ${E-d} ${B:-${A}} ${A:+y} ${B+y}", env) == "$A x x d d  x y "
    with pytest.raises(InterpolationError):
        interpolate("${E:?empty}", env)


def test_example_values_are_refused_by_setup(example_env):
    compose_setup = load_setup_module()
    env = {**example_env, "GLEANER_REDIS_PASSWORD": example_env["REDIS_PASSWORD"]}
    problems = compose_setup.check_secrets(env)
    for name in SECRET_NAMES:
        assert any(line.startswith(f"{name} is still the example value") for line in problems), name
    good = {name: f"{name}-good-secret-of-more-than-32-characters" for name in compose_setup.SECRETS}
    assert compose_setup.check_secrets(good) == []
    assert "fewer than 32" in compose_setup.check_secrets({**good, "KIBANA_SECURITY_KEY": "short-key-of-24-chars-xx"})[0]


@pytest.mark.parametrize("password, refused", [("change-me-flower", True), ("", True), (HOSTILE[0], False)])
def test_flower_credentials_come_from_the_environment(password, refused):
    code = ("import runpy, sys; c = runpy.run_path('ops/compose/flowerconfig.py'); "
            "print(repr(c['basic_auth']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"FLOWER_USER": "admin", "FLOWER_PASSWORD": password})
    if refused:
        assert done.returncode != 0 and "FLOWER_PASSWORD" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert eval(done.stdout) == [f"admin:{password}"]  # noqa: S307 - our own repr
    flower = load_compose()["services"]["flower"]
    assert "--conf=ops/compose/flowerconfig.py" in flower["command"]
    assert not any("basic" in part and "auth" in part for part in flower["command"])


def test_redis_refuses_the_example_password():
    script = load_compose()["services"]["redis"]["command"][2].replace("$$", "$")
    for password in ("change-me-redis", ""):
        done = subprocess.run(["/bin/sh", "-c", script], env={"REDIS_PASSWORD": password, "PATH": "/nonexistent"},
                              capture_output=True, text=True)
        assert done.returncode == 1 and "set REDIS_PASSWORD in .env" in done.stderr


def test_kibana_secrets_never_reach_its_command_line():
    """The Kibana image turns environment variables named after settings (ELASTICSEARCH_PASSWORD...)
    into unquoted command-line options; ours are read by kibana.yml instead."""
    kibana = load_compose()["services"]["kibana"]
    settings_file = yaml.safe_load((ROOT / "ops" / "compose" / "kibana.yml").read_text())
    setting_like = {k.upper().replace(".", "_") for k in settings_file} | {"ELASTICSEARCH_PASSWORD"}
    assert not set(kibana["environment"]) & setting_like
    lines = (ROOT / "ops" / "compose" / "kibana.yml").read_text().splitlines()
    referenced = set(re.findall(r"\$\{(\w+)\}", "\n".join(line for line in lines if not line.startswith("#"))))
    assert referenced == set(kibana["environment"])
    assert settings_file["elasticsearch.hosts"] == ["https://elasticsearch:9200"]
    assert any("kibana.yml" in v for v in kibana["volumes"])


def test_order_needs_nothing_that_has_not_happened():
    services = load_compose()["services"]
    deps = {name: s.get("depends_on", {}) for name, s in services.items()}
    assert deps["elasticsearch"]["certs"]["condition"] == "service_completed_successfully"
    assert deps["setup"]["elasticsearch"]["condition"] == "service_healthy"
    assert deps["setup"]["redis"]["condition"] == "service_healthy"  # the failures index is filled from Redis
    assert "kibana" not in deps["setup"], "setup must not wait for Kibana: Kibana needs setup's password"
    assert deps["kibana"]["setup"]["condition"] == "service_completed_successfully"
    assert "kibana" in deps["kibana-import"]
    for stage in ("parse", "enrich", "index"):
        assert deps[stage]["setup"]["condition"] == "service_completed_successfully"
        assert "kibana" not in deps[stage] and "kibana-import" not in deps[stage]
    # No cycle, and every dependency exists.
    seen: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        assert name in services and name not in path, f"cycle or unknown service: {path + (name,)}"
        for dep in deps[name]:
            visit(dep, path + (name,))
        seen[name] = 1

    for name in services:
        visit(name)
    for one_shot in ("certs", "setup", "kibana-import"):
        assert services[one_shot]["restart"] == "no"


def test_elasticsearch_https_with_certificates_from_the_certs_step():
    services = load_compose()["services"]
    es = services["elasticsearch"]
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert es["environment"]["xpack.security.http.ssl.enabled"] == "true"
    assert "certutil" in (ROOT / "ops" / "compose" / "certs.sh").read_text()
    assert services["certs"]["image"] == es["image"]
    health = " ".join(es["healthcheck"]["test"])
    assert "--cacert" in health and "https://" in health and "ELASTIC_PASSWORD" not in health
    for name in ("setup", "parse", "enrich", "index", "producer"):
        env = services[name]["environment"]
        assert env["GLEANER_ES_URL"].startswith("https://elasticsearch:")
        assert env["GLEANER_ES_CA_CERTS"] == "/certs/ca/ca.crt"
        assert "certs:/certs:ro" in services[name]["volumes"]


def test_redis_only_on_the_internal_network_and_only_loopback_ports():
    compose = load_compose()
    assert compose["networks"]["backend"]["internal"] is True
    assert compose["services"]["redis"]["networks"] == ["backend"]
    assert "ports" not in compose["services"]["redis"]
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"


def test_workers_write_only_and_leave_indices_to_setup():
    services = load_compose()["services"]
    for stage in ("parse", "enrich", "index"):
        env = services[stage]["environment"]
        assert env["GLEANER_ES_USERNAME"] == "gleaner_writer"
        assert env["GLEANER_ES_CREATE_INDICES"] == "false"
        assert f"-Q {stage}" in " ".join(services[stage]["command"].split())


def test_celery_app_module_of_the_commands_exists():
    services = load_compose()["services"]
    for name in ("parse", "enrich", "index", "flower"):
        command = services[name]["command"]
        words = command if isinstance(command, list) else shlex.split(command)
        module = words[words.index("-A") + 1]
        assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"
    for name in ("setup", "kibana-import"):
        assert (ROOT / services[name]["command"][1]).exists()


def test_every_workers_module_the_deployment_files_name_exists():
    """``celery -A MODULE`` and ``python -m MODULE`` in compose, the image, the Makefile, the stack
    and bench scripts, and the README; and every ``workers/...py`` path the README names."""
    files = [ROOT / "docker-compose.yml", ROOT / "Dockerfile", ROOT / "Makefile", ROOT / "README.md",
             *ROOT.glob("ops/**/*.sh"), *ROOT.glob("ops/**/*.py")]
    named = {}
    for path in files:
        for match in re.finditer(r"""(?:-A|-m)[\s"',]+(workers(?:\.\w+)+)""", path.read_text()):
            named[match.group(1)] = path.relative_to(ROOT)
    assert "workers.delivery.app" in named, "the Celery app is named somewhere"
    for module, path in named.items():
        assert importlib.util.find_spec(module) is not None, f"{path}: no module {module}"
    for relative in re.findall(r"workers/[\w/]+\.py", (ROOT / "README.md").read_text()):
        assert (ROOT / relative).is_file(), f"README.md names {relative}"


def test_same_stack_version_as_local_node_and_client(example_env):
    import elasticsearch

    local_version = example_env["STACK_VERSION"]
    pom = (ROOT / "ops" / "elasticsearch" / "pom.xml").read_text()
    assert f"<es.version>{local_version}</es.version>" in pom
    services = load_compose()["services"]
    for name in ("elasticsearch", "kibana", "certs"):
        assert services[name]["image"].endswith(f":${{STACK_VERSION:-{local_version}}}")
    assert elasticsearch.__versionstr__.split(".")[0] == local_version.split(".")[0]


def test_dockerfile_layers_dependencies_before_code():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    instructions = [line for line in lines if line.split()[0].isupper()]
    first_code = next(i for i, line in enumerate(instructions) if line.startswith("COPY workers"))
    deps_install = next(i for i, line in enumerate(instructions) if "pip install -r /tmp/requirements.txt" in
                        " ".join(lines[lines.index(line):lines.index(line) + 4]) and line.startswith("RUN"))
    model = next(i for i, line in enumerate(instructions) if "--require-hashes" in line)
    assert model < deps_install < first_code
    text = (ROOT / "Dockerfile").read_text()
    assert "[dev]" not in text and "'dev'" not in text
    assert "optional-dependencies']['flower']" in text


def test_model_wheel_pinned_by_hash_at_the_pyproject_version():
    requirements = (ROOT / "ops" / "compose" / "model-requirements.txt").read_text()
    pin = re.search(r"^([\w.-]+)==([\w.]+)", requirements, re.M)
    assert pin and re.search(r"--hash=sha256:[0-9a-f]{64}\b", requirements)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"{pin.group(1)}=={pin.group(2)}" in project["dependencies"]
    assert "flower" in " ".join(project["optional-dependencies"]["flower"])


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".env", ".venv", ".stack", ".git", ".cache"} <= ignored
    assert "!.env.example" in ignored


def test_security_roles_give_workers_documents_only():
    data = json.loads((ROOT / "ops" / "compose" / "security.json").read_text())
    writer = data["roles"]["gleaner_writer"]
    assert writer["cluster"] == []
    granted = {name: set(entry["privileges"]) for entry in writer["indices"] for name in entry["names"]}
    # documents only: index them, and search the pages for the near-duplicate lookup
    assert granted == {"{alias}": {"index", "read"}, "{alias}-*": {"index", "read"}, "gleaner-failures": {"index"}}
    assert data["users"]["gleaner_writer"]["roles"] == ["gleaner_writer"]

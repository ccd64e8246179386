"""The compose project model: merging, anchors, interpolation, ports, projects."""

from __future__ import annotations

import pytest

import kohalint
from kohalint.documents.compose import ProjectBuilder, discover_projects
from kohalint.documents.ports import parse_port
from kohalint.documents.yamldoc import YScalar, load_yaml
from kohalint.errors import ParseError
from tests.conftest import triples

D = "@sha256:" + "ab" * 32


def build(files: dict[str, str], order: list[str], env: dict[str, str] | None = None):
    def load(path):
        return load_yaml(files[path], path) if path in files else None
    return ProjectBuilder(load, lambda _p: env or {}).build(order)


@pytest.mark.parametrize("text,ip,published,target,proto,loopback", [
    ("3000", "", "", "3000", "tcp", False),
    ("8000:8000", "", "8000", "8000", "tcp", False),
    ("9090-9091:8080-8081", "", "9090-9091", "8080-8081", "tcp", False),
    ("127.0.0.1:8001:8001", "127.0.0.1", "8001", "8001", "tcp", True),
    ("::1:6000:6000", "::1", "6000", "6000", "tcp", True),
    ("[::1]:6001:6001", "[::1]", "6001", "6001", "tcp", True),
    ("[::]:6002:6002", "[::]", "6002", "6002", "tcp", False),
    ("6060:6060/udp", "", "6060", "6060", "udp", False),
    ("0.0.0.0:80:80", "0.0.0.0", "80", "80", "tcp", False),
])
def test_short_port_syntax(text, ip, published, target, proto, loopback):
    (b,) = parse_port(YScalar(text, "c.yml", 1, 1))
    assert (b.host_ip, b.published, b.target, b.protocol, b.loopback) == (ip, published, target, proto, loopback)


def test_long_port_syntax_with_host_ip():
    doc = load_yaml("- target: 80\n  published: '8080'\n  host_ip: 127.0.0.1\n  protocol: tcp\n", "c.yml")
    (b,) = parse_port(doc.items[0])
    assert (b.host_ip, b.published, b.target, b.loopback, b.line) == ("127.0.0.1", "8080", "80", True, 1)


def test_yaml_12_keeps_sexagesimal_looking_ports_as_strings():
    doc = load_yaml("ports:\n  - 22:22\n  - on\n", "c.yml")
    assert doc.plain() == {"ports": ["22:22", "on"]}


def test_merge_keys_and_anchor_lines_are_traced():
    files = {"compose.yaml": "x-h: &h\n  security_opt: [no-new-privileges:true]\n  restart: always\n"
                             "services:\n  web:\n    <<: *h\n    restart: unless-stopped\n"}
    svc = build(files, ["compose.yaml"]).services["web"]
    assert svc.text("restart") == "unless-stopped"
    assert svc.get("security_opt").line == 2  # from the anchor's own line
    assert svc.line == 5


def test_override_appends_security_opt_and_replaces_scalars():
    files = {"compose.yaml": "services:\n  db:\n    image: mariadb:11\n    security_opt: [a]\n    cap_drop: [ALL]\n",
             "compose.override.yaml": "services:\n  db:\n    image: mariadb:10\n    security_opt: [b]\n"
                                      "    cap_drop: [ALL, NET_RAW]\n"}
    svc = build(files, ["compose.yaml", "compose.override.yaml"]).services["db"]
    assert svc.text("image") == "mariadb:10"
    assert svc.get("security_opt").plain() == ["a", "b"]
    assert svc.get("cap_drop").plain() == ["ALL", "NET_RAW"]


def test_reset_and_override_tags():
    files = {"a.yml": "services:\n  s:\n    ports: ['80:80']\n    volumes: [x:/x]\n",
             "b.yml": "services:\n  s:\n    ports: !reset []\n    volumes: !override [y:/y]\n"}
    svc = build(files, ["a.yml", "b.yml"]).services["s"]
    assert svc.get("ports") is None
    assert svc.get("volumes").plain() == ["y:/y"]


def test_ports_deduplicated_by_binding_and_environment_merged_by_key():
    files = {"a.yml": "services:\n  s:\n    ports: ['80:80']\n    environment: [A=1, B=2]\n",
             "b.yml": "services:\n  s:\n    ports: ['80:80', '443:443']\n    environment: {B: '3'}\n"}
    svc = build(files, ["a.yml", "b.yml"]).services["s"]
    assert [b.published for b in svc.ports()] == ["80", "443"]
    assert svc.get("environment").plain() == {"A": "1", "B": "3"}


def test_logging_replaced_when_driver_changes():
    files = {"a.yml": "services:\n  s:\n    logging: {driver: json-file, options: {max-size: 1m}}\n",
             "b.yml": "services:\n  s:\n    logging: {driver: local}\n"}
    svc = build(files, ["a.yml", "b.yml"]).services["s"]
    assert svc.get("logging").plain() == {"driver": "local"}


def test_interpolation_prefers_default_then_template():
    files = {"c.yml": "services:\n  s:\n    image: ${IMG:-mariadb:11}\n    mem_limit: ${MEM}\n"
                      "    cpus: ${CPUS}\n"}
    svc = build(files, ["c.yml"], env={"IMG": "postgres:16", "CPUS": "2"}).services["s"]
    assert svc.text("image") == "mariadb:11"
    assert svc.get("mem_limit").unknown and not svc.get("cpus").unknown
    assert svc.text("cpus") == "2"


def test_extends_in_same_and_other_file():
    files = {"compose.yaml": "services:\n  base:\n    image: x\n    restart: always\n"
                             "  web:\n    extends: base\n    cap_drop: [ALL]\n"
                             "  ext:\n    extends: {service: common, file: common.yml}\n",
             "common.yml": "services:\n  common:\n    pids_limit: 100\n"}
    project = build(files, ["compose.yaml"])
    assert project.services["web"].text("restart") == "always"
    assert project.services["web"].get("extends") is None
    assert project.services["ext"].text("pids_limit") == "100"


def test_circular_extends_is_a_parse_error():
    files = {"c.yml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"}
    with pytest.raises(ParseError):
        build(files, ["c.yml"])


def test_project_discovery():
    paths = ["compose.yaml", "docker-compose.yml", "compose.override.yaml", "docker-compose.prod.yml",
             "ops/compose.yml"]
    assert discover_projects(paths) == [
        ["compose.yaml", "compose.override.yaml"],
        ["compose.yaml", "docker-compose.prod.yml"],
        ["compose.yaml", "docker-compose.yml"],
        ["ops/compose.yml"],
    ]


def test_alias_bomb_is_bounded():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(ParseError, match="node limit"):
        load_yaml("\n".join(lines) + "\n", "bomb.yml")


def test_finding_in_several_projects_reported_once(make_repo):
    root = make_repo({
        "compose.yaml": "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n",
        "compose.override.yaml": "services:\n  db:\n    environment: {A: '1'}\n",
        "docker-compose.prod.yml": "services:\n  db:\n    restart: always\n",
    })
    report = kohalint.scan(root, select=["KL401"])
    assert triples(report) == {("KL401", "compose.yaml", 4)}


def test_override_adds_hardening_and_clears_finding(make_repo):
    root = make_repo({
        "compose.yaml": "services:\n  web:\n    image: nginx\n",
        "compose.override.yaml": "services:\n  web:\n    security_opt: ['no-new-privileges:true']\n",
    })
    assert triples(kohalint.scan(root, select=["KL402"])) == set()

"""Edge cases of the runtime rules beyond the catalog examples."""

from __future__ import annotations

import pytest

import kohalint
from tests.conftest import triples

D = "@sha256:" + "ab" * 32


def scan_compose(make_repo, text: str, rule: str, extra: dict[str, str] | None = None):
    root = make_repo({"compose.yaml": text, **(extra or {})})
    report = kohalint.scan(root, select=[rule])
    return report, {(f.location.line, f.severity.value) for f in report.findings if f.rule_id == rule}


@pytest.mark.parametrize("ports,expected", [
    ('["3306:3306"]', {(4, "critical")}),
    ('["127.0.0.1:3306:3306"]', {(4, "medium")}),
    ('["[::1]:3306:3306"]', {(4, "medium")}),
    ('["[::]:3306:3306"]', {(4, "critical")}),
    ('[{target: 3306, host_ip: 127.0.0.1, published: "3306"}]', {(4, "medium")}),
    ('[{target: 3306, host_ip: 0.0.0.0, published: "3306"}]', {(4, "critical")}),
    ('["3306"]', {(4, "critical")}),
    ("[]", set()),
])
def test_kl401_bindings(make_repo, ports, expected):
    text = f"services:\n  db:\n    image: mariadb:11.4\n    ports: {ports}\n"
    assert scan_compose(make_repo, text, "KL401")[1] == expected


@pytest.mark.parametrize("image,name,internal", [
    ("${DB_IMAGE:-mariadb:11.4}", "database1", True),
    ("docker.io/bitnami/mariadb:11" + D, "x", True),
    ("docker.elastic.co/elasticsearch/elasticsearch:8.15.0", "search", True),
    ("${DB_IMAGE}", "db", True),          # unknown image, internal by name
    ("${DB_IMAGE}", "frontend", False),
    ("prom/mysqld-exporter:v0.15.1", "exporter", False),
])
def test_kl401_internal_by_image_or_name(make_repo, image, name, internal):
    text = f"services:\n  {name}:\n    image: {image}\n    ports: ['9000:9000']\n"
    assert bool(scan_compose(make_repo, text, "KL401")[1]) is internal


def test_kl409_network_mode_host_split_between_rules(make_repo):
    text = ("services:\n  db:\n    image: mariadb:11\n    network_mode: host\n"
            "  app:\n    image: koha\n    network_mode: host\n")
    root = make_repo({"compose.yaml": text})
    assert triples(kohalint.scan(root, select=["KL401", "KL409"])) == {
        ("KL401", "compose.yaml", 4), ("KL409", "compose.yaml", 7)}


@pytest.mark.parametrize("volume,flagged", [
    ("/var/run/docker.sock:/var/run/docker.sock:ro", True),
    ("/run/docker.sock:/sock", True),
    ("/var/run:/host/var/run", True),
    ("/:/host:ro", True),
    ("/var:/host/var", True),
    ("/var/lib/docker/containers:/c:ro", False),
    ("./docker.sock:/x", False),
    ("data:/var/run/docker.sock", False),
])
def test_kl409_socket_via_parent_folders(make_repo, volume, flagged):
    text = f"services:\n  agent:\n    image: alloy\n    volumes:\n      - {volume}\n"
    assert bool(scan_compose(make_repo, text, "KL409")[1]) is flagged


@pytest.mark.parametrize("key", ["pid: host", "ipc: host", "uts: host", "userns_mode: host",
                                 "use_api_socket: true"])
def test_kl409_namespaces(make_repo, key):
    text = f"services:\n  a:\n    image: x\n    {key}\n"
    assert scan_compose(make_repo, text, "KL409")[1] == {(4, "critical")}


def test_kl407_medium_for_non_critical_and_dockerfile_healthcheck(make_repo):
    text = ("services:\n  adminer:\n    image: adminer:4\n  koha:\n    build:\n      context: app\n"
            "      dockerfile: Dockerfile.koha\n")
    df = f"FROM debian{D}\nHEALTHCHECK CMD true\n"
    _, got = scan_compose(make_repo, text, "KL407", {"app/Dockerfile.koha": df})
    assert got == {(2, "medium")}


def test_kl407_healthcheck_none_in_dockerfile_counts_as_missing(make_repo):
    text = "services:\n  koha:\n    build: .\n"
    _, got = scan_compose(make_repo, text, "KL407", {"Dockerfile": f"FROM debian{D}\nHEALTHCHECK NONE\n"})
    assert got == {(2, "high")}


def test_kl404_deploy_time_variables_count_as_set(make_repo):
    text = "services:\n  a:\n    image: x\n    mem_limit: ${MEM}\n    cpus: ${CPUS:-1}\n    pids_limit: 0\n"
    report, got = scan_compose(make_repo, text, "KL404")
    assert got == {(2, "medium")}
    assert "process" in report.findings[0].message and "memory" not in report.findings[0].message


def test_kl405_restart_no_from_variable_default(make_repo):
    text = "services:\n  a:\n    image: x\n    restart: ${RESTART:-no}\n"
    assert scan_compose(make_repo, text, "KL405")[1] == {(4, "medium")}


def test_kl408_loopback_app_port_and_edge_with_tls(make_repo):
    text = (f"services:\n  koha:\n    image: koha\n    ports: ['127.0.0.1:8080:8080']\n"
            f"  proxy:\n    image: traefik:v3.1\n    ports: ['80:80', '443:443']\n"
            f"    command: ['--entrypoints.websecure.address=:443']\n")
    assert scan_compose(make_repo, text, "KL408")[1] == set()


def test_kl408_traefik_without_tls(make_repo):
    text = "services:\n  proxy:\n    image: traefik:v3.1\n    ports: ['443:443']\n"
    assert scan_compose(make_repo, text, "KL408")[1] == {(2, "high")}


def scan_dockerfile(make_repo, text: str, rule: str):
    root = make_repo({"Dockerfile": text})
    report = kohalint.scan(root, select=[rule])
    return {(f.location.line, f.severity.value) for f in report.findings if f.rule_id == rule}


@pytest.mark.parametrize("text,expected", [
    ("FROM debian\n", {(1, "critical")}),
    ("FROM debian:latest\n", {(1, "critical")}),
    ("FROM debian:bookworm\n", {(1, "high")}),
    (f"FROM debian:bookworm{D}\n", set()),
    (f"FROM --platform=linux/amd64 debian{D} AS base\nFROM base\n", set()),
    ("ARG V=12\nFROM debian:${V}\n", {(2, "high")}),
    ("ARG IMG\nFROM ${IMG}\n", {(2, "low")}),
    ("FROM scratch\n", set()),
    (f"FROM registry.local:5000/koha{D}\n", set()),
    ("FROM registry.local:5000/koha\n", {(1, "critical")}),
])
def test_kl410_from_forms(make_repo, text, expected):
    assert scan_dockerfile(make_repo, text, "KL410") == expected


@pytest.mark.parametrize("text,expected", [
    (f"FROM debian{D} AS a\nUSER app\nFROM a\nRUN x\n", set()),
    (f"FROM debian{D} AS a\nUSER app\nFROM debian{D}\n", {(3, "medium")}),
    (f"FROM debian{D}\nUSER 0:0\n", {(2, "medium")}),
    (f"FROM debian{D}\nUSER root\nRUN x\nUSER 1000:1000\n", set()),
])
def test_kl411_users_across_stages(make_repo, text, expected):
    assert scan_dockerfile(make_repo, text, "KL411") == expected

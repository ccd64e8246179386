"""Edge cases of the observability rules (KL501-KL504) and of the role helper."""

from __future__ import annotations

import pytest

import kohalint
from kohalint.checks.observability import image_matches, image_path
from kohalint.checks.observability_alerts import first_heading
from kohalint.config import Settings, settings_from_mapping
from kohalint.errors import ConfigError
from kohalint.models import Area
from kohalint.roles import area_applies, deployment_role
from tests.conftest import triples

KOHA = "  koha:\n    image: ghcr.io/acme/koha:sha-1a2b3c4\n"


def scan(make_repo, files: dict[str, str], rule: str, config: dict | None = None):
    root = make_repo(files)
    report = kohalint.scan(root, config={"select": [rule], **(config or {})})
    return report, triples(report, rule)


def messages(report, rule: str) -> list[str]:
    return [f.message for f in report.findings if f.rule_id == rule]


# -- image matching ---------------------------------------------------------------
@pytest.mark.parametrize("image,collector", [
    ("grafana/alloy:v1.4.3", True),
    ("docker.io/grafana/promtail:2.9.4@sha256:" + "ab" * 32, True),
    ("timberio/vector:0.41.1-alpine", True),
    ("cr.fluentbit.io/fluent/fluent-bit:3.1", True),
    ("fluent/fluentd-kubernetes-daemonset:v1", True),
    ("docker.elastic.co/beats/filebeat:8.15.0", True),
    ("otel/opentelemetry-collector-contrib:0.110.0", True),
    ("gcr.io/datadoghq/agent:7", True),
    ("grafana/agent:v0.43.3", True),
    ("${REGISTRY}/promtail:${PROMTAIL_TAG}", True),
    ("acme/agent:1", False),
    ("grafana/grafana:11.2.0", False),
    ("nginx:1.27", False),
    ("localhost:5000/vectorizer:1", False),
])
def test_collector_images(image, collector):
    assert image_matches(image_path(image), Settings().observability.log_collectors) is collector


def test_image_path_strips_tag_and_digest_but_not_registry_port():
    assert image_path("localhost:5000/prom/node-exporter:v1@sha256:00") == "localhost:5000/prom/node-exporter"
    assert image_path("Cadvisor") == "cadvisor"


# -- KL501 ----------------------------------------------------------------------------
def test_kl501_reported_once_across_projects(make_repo):
    files = {"compose.yaml": "name: koha\nservices:\n" + KOHA,
             "compose.override.yaml": "services:\n  koha:\n    environment: {A: '1'}\n",
             "compose.prod.yaml": "services:\n  koha:\n    environment: {A: '2'}\n"}
    _, got = scan(make_repo, files, "KL501")
    assert got == {("KL501", "compose.yaml", 2)}


def test_kl501_variant_with_collector_clears_only_its_project(make_repo):
    files = {"compose.yaml": "services:\n" + KOHA,
             "compose.logging.yaml": "services:\n  alloy:\n    image: grafana/alloy:v1.4.3\n"}
    report, got = scan(make_repo, files, "KL501")
    assert got == {("KL501", "compose.yaml", 1)}
    assert len(report.findings) == 1  # from the base-only project


@pytest.mark.parametrize("logging,flagged", [
    ("logging: {driver: '${LOG_DRIVER}'}", False),          # chosen at deploy time
    ("logging: {driver: '${LOG_DRIVER:-json-file}'}", True),
    ("logging: {driver: local}", True),
    ("logging: {driver: none}", False),                     # nothing to ship
    ("logging: {driver: awslogs}", False),
    ("logging: {driver: 'grafana/loki-docker-driver:3.3.2'}", False),
])
def test_kl501_drivers(make_repo, logging, flagged):
    text = f"services:\n  koha:\n    image: ghcr.io/acme/koha:sha-1a2b3c4\n    {logging}\n"
    assert bool(scan(make_repo, {"compose.yaml": text}, "KL501")[1]) is flagged


def test_kl501_partial_shipping_names_local_services(make_repo):
    text = ("services:\n" + KOHA + "    logging: {driver: gelf}\n  db:\n    image: mariadb:11.4\n"
            "  es:\n    image: elasticsearch:8.15.0\n")
    report, got = scan(make_repo, {"compose.yaml": text}, "KL501")
    assert got == {("KL501", "compose.yaml", 1)}
    assert "'db', 'es' log to the host only" in messages(report, "KL501")[0]


def test_kl501_service_name_counts_only_when_image_unknown(make_repo):
    named = "services:\n" + KOHA + "  vector:\n    image: acme/log-router:2\n"
    built = "services:\n" + KOHA + "  vector:\n    build: ./vector\n"
    assert scan(make_repo, {"compose.yaml": named}, "KL501")[1]
    assert not scan(make_repo, {"compose.yaml": built}, "KL501")[1]


def test_kl501_without_services_key_points_at_line_1(make_repo):
    files = {"compose.yaml": "# base\nname: koha\n", "compose.override.yaml": "services:\n" + KOHA}
    assert scan(make_repo, files, "KL501")[1] == {("KL501", "compose.yaml", 1)}


def test_kl501_configured_collectors(make_repo):
    text = "services:\n" + KOHA + "  shipper:\n    image: acme/shipper:1\n"
    cfg = {"observability": {"log-collectors": ["acme/shipper"]}}
    assert not scan(make_repo, {"compose.yaml": text}, "KL501", cfg)[1]


# -- KL502 ----------------------------------------------------------------------------
def test_kl502_one_finding_per_gap(make_repo):
    text = "services:\n" + KOHA + "  db:\n    image: mariadb:11.4\n  pg:\n    image: postgres:16\n"
    report, got = scan(make_repo, {"compose.yaml": text}, "KL502")
    assert got == {("KL502", "compose.yaml", 1), ("KL502", "compose.yaml", 4), ("KL502", "compose.yaml", 6)}
    assert len(report.findings) == 5
    assert sorted(m.split(":")[0] for m in messages(report, "KL502")) == [
        "no container metrics", "no host metrics", "no metrics scraper",
        "service 'db' (mariadb) has no metrics exporter (mysqld-exporter)",
        "service 'pg' (postgres) has no metrics exporter (postgres-exporter)"]


def test_kl502_database_gap_only_with_a_database(make_repo):
    text = ("services:\n" + KOHA + "  prometheus:\n    image: prom/prometheus:v2.55.1\n"
            "  node-exporter:\n    image: prom/node-exporter:v1.8.2\n  cadvisor:\n"
            "    image: gcr.io/cadvisor/cadvisor:v0.49.1\n  mysqld-exporter:\n"
            "    image: prom/mysqld-exporter:v0.15.1\n")
    assert scan(make_repo, {"compose.yaml": text}, "KL502")[1] == set()


def test_kl502_unknown_database_image_is_not_guessed(make_repo):
    text = "services:\n  db:\n    image: ${DB_IMAGE}\n"
    cfg = {"observability": {"provided": ["host", "container", "scraper"]}}
    assert scan(make_repo, {"compose.yaml": text}, "KL502", cfg)[1] == set()
    text = "services:\n  mariadb:\n    image: ${DB_IMAGE}\n"
    assert scan(make_repo, {"compose.yaml": text}, "KL502", cfg)[1] == {("KL502", "compose.yaml", 2)}


# -- KL503 ----------------------------------------------------------------------------
RULES = """groups:
  - name: koha
    rules:
{rules}"""


def alert(name: str, expr: str, labels: str = "") -> str:
    out = f"      - alert: {name}\n        expr: '{expr}'\n"
    return out + (f"        labels: {{{labels}}}\n" if labels else "")


@pytest.mark.parametrize("name,expr,labels,situation", [
    ("KohaDown", "vector(1)", "", "container-down"),
    ("Whatever", 'sum(up{job="koha"}) == 0', "", "container-down"),
    ("Whatever", "avg_over_time(up[5m]) < 1", "", "container-down"),
    ("Whatever", "time() - container_last_seen > 60", "", "container-down"),
    ("Whatever", 'probe_success{job="blackbox"} == 0', "", "container-down"),
    ("Whatever", 'rate(nginx_http_requests_total{status=~"^5.."}[5m]) > 1', "", "http-5xx"),
    ("HighServerErrorRate", "vector(1)", "", "http-5xx"),
    ("Whatever", "vector(1)", "kind: http-5xx", "http-5xx"),
    ("HostOutOfDiskSpace", "vector(1)", "", "low-disk"),
    ("Whatever", "predict_linear(node_filesystem_free_bytes[6h], 86400) < 0", "", "low-disk"),
    ("FilesystemAlmostFull", "vector(1)", "", "low-disk"),
    ("MariabackupStale", "vector(1)", "", "backup-failure"),
    ("Whatever", "koha_job_failed > 0", "job: restore-test", "backup-failure"),
])
def test_kl503_matchers(make_repo, name, expr, labels, situation):
    text = RULES.format(rules=alert(name, expr, labels))
    report, _ = scan(make_repo, {"compose.yaml": "services:\n" + KOHA, "alerts.yml": text}, "KL503")
    missing = {f.identity.split("|")[1] for f in report.findings}
    assert situation not in missing
    assert len(missing) == 3


@pytest.mark.parametrize("name,expr", [
    ("DiskIOHigh", "rate(node_disk_io_time_seconds_total[5m]) > 0.9"),
    ("DownloadsSlow", "rate(koha_downloads_total[5m]) < 1"),
])
def test_kl503_near_misses_match_nothing(make_repo, name, expr):
    text = RULES.format(rules=alert(name, expr))
    report, _ = scan(make_repo, {"compose.yaml": "services:\n" + KOHA, "alerts.yml": text}, "KL503")
    assert len(report.findings) == 4


def test_kl503_rule_files_found_by_content_not_name(make_repo):
    files = {"compose.yaml": "services:\n" + KOHA,
             "z/prometheus/koha.rules.yml": RULES.format(rules=alert("KohaDown", "up == 0")),
             "a/recording.yml": RULES.format(rules="      - record: x\n        expr: up\n"),
             "b/helm/templates/rules.yaml": "groups:\n{{- range .Values.x }}\n  alert: {{ . }}\n{{- end }}\n"}
    root = make_repo(files)
    report = kohalint.scan(root, select=["KL503", "KL001"])
    assert triples(report) == {("KL503", "z/prometheus/koha.rules.yml", 1)}  # and no KL001 for the template
    assert "none of the 1 alerting rule in 1 rule file" in messages(report, "KL503")[0]


def test_kl503_unparsable_rule_file_is_kl001_only(make_repo):
    files = {"compose.yaml": "services:\n" + KOHA,
             "monitoring/alerts.yml": "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: [\n"}
    root = make_repo(files)
    report = kohalint.scan(root, select=["KL503", "KL001"])
    assert {f.rule_id for f in report.findings} == {"KL001"}


def test_kl503_areas_setting_overrides_role_detection(make_repo):
    files = {"Dockerfile": "FROM scratch\n"}
    assert scan(make_repo, files, "KL503")[1] == set()
    got = scan(make_repo, files, "KL503", {"areas": ["observability"]})[1]
    assert got == {("KL503", "monitoring/alerts.yml", 1)}
    got = scan(make_repo, files, "KL503", {"areas": ["observability"],
                                           "observability": {"alert-rules-file": "prom/alerts.yaml"}})[1]
    assert got == {("KL503", "prom/alerts.yaml", 1)}


def test_kl503_custom_situation(make_repo):
    text = RULES.format(rules=alert("Anything", "vector(1)"))
    cfg = {"observability": {"alerts": {"queue-backlog": [r"(?i)rabbitmq_queue_messages"]}}}
    report, got = scan(make_repo, {"alerts.yml": text}, "KL503", cfg)
    assert got == {("KL503", "alerts.yml", 1)}
    assert messages(report, "KL503")[0].startswith("no alert for 'queue-backlog'")


def test_invalid_pattern_is_a_config_error():
    with pytest.raises(ConfigError, match="invalid regular expression"):
        settings_from_mapping({"observability": {"alerts": {"x": ["(unclosed"]}}})


# -- KL504 ----------------------------------------------------------------------------
@pytest.mark.parametrize("text,heading", [
    ("# MariaDB is down\n", "MariaDB is down"),
    ("## Disk full ##\n", "Disk full"),
    ("---\ntitle: x\n---\n\n# After front matter\n", "After front matter"),
    ("Queue backlog\n=============\n", "Queue backlog"),
    ("= AsciiDoc title\n", "AsciiDoc title"),
    ("- a list\n---\n", None),
    ("", None),
])
def test_first_heading(text, heading):
    assert first_heading(text) == heading


RUNBOOKS = {"docs/runbooks/db.md": "# Database down\n", "docs/runbooks/q.md": "# Queue backlog\n",
            "docs/runbooks/disk-full.md": "x\n"}


def alerts_with(url: str, where: str = "annotations") -> str:
    return RULES.format(rules=f"      - alert: A\n        expr: up == 0\n        {where}:\n"
                              f"          runbook_url: {url}\n")


@pytest.mark.parametrize("url,flagged", [
    ("docs/runbooks/db.md", False),
    ("docs/runbooks/nope.md", True),
    ("/docs/runbooks/nope.md#step-2", True),
    ("./db.md", True),                                   # relative to monitoring/
    ("../docs/runbooks/db.md", False),
    ("docs/runbooks", False),                            # a folder that exists
    ("https://github.com/acme/deploy/blob/main/docs/runbooks/nope.md", True),
    ("https://github.com/acme/deploy/tree/main/docs/runbooks/db.md?plain=1", False),
    ("https://gitlab.com/acme/deploy/-/blob/main/docs/runbooks/nope.md", True),
    ("https://raw.githubusercontent.com/acme/deploy/main/docs/runbooks/nope.md", True),
    ("https://github.com/acme/other/blob/main/ops/nope.md", False),   # not under the runbooks folder
    ("https://wiki.example.org/runbooks/nope", False),
    ("'https://runbooks.example.org/{{ $labels.alertname }}'", False),
    ("../../outside.md", False),
])
def test_kl504_runbook_urls(make_repo, url, flagged):
    files = {**RUNBOOKS, "monitoring/alerts.yml": alerts_with(url)}
    got = scan(make_repo, files, "KL504")[1]
    assert got == ({("KL504", "monitoring/alerts.yml", 7)} if flagged else set())


def test_kl504_repository_url_setting(make_repo):
    files = {**RUNBOOKS,
             "monitoring/alerts.yml": alerts_with("https://github.com/acme/deploy/blob/main/ops/nope.md")}
    cfg = {"observability": {"repository-url": "https://github.com/acme/deploy/"}}
    assert scan(make_repo, files, "KL504", cfg)[1] == {("KL504", "monitoring/alerts.yml", 7)}
    files["monitoring/alerts.yml"] = alerts_with("https://github.com/acme/other/blob/main/docs/runbooks/x.md")
    assert scan(make_repo, files, "KL504", cfg)[1] == set()


def test_kl504_runbook_url_in_labels(make_repo):
    files = {**RUNBOOKS, "monitoring/alerts.yml": alerts_with("docs/runbooks/gone.md", where="labels")}
    assert scan(make_repo, files, "KL504")[1] == {("KL504", "monitoring/alerts.yml", 7)}


def test_kl504_scenarios_need_a_role_or_runbooks(make_repo):
    assert scan(make_repo, {"Dockerfile": "FROM scratch\n"}, "KL504")[1] == set()
    got = scan(make_repo, {"docs/runbooks/db-down.md": "# x\n"}, "KL504")[1]
    assert got == {("KL504", "docs/runbooks/queue-backlog.md", 1), ("KL504", "docs/runbooks/disk-full.md", 1)}


def test_kl504_runbooks_dir_setting(make_repo):
    files = {"compose.yaml": "services:\n" + KOHA, "ops/runbooks/db-down.md": "x\n",
             "ops/runbooks/rabbitmq.md": "x\n", "ops/runbooks/low-disk-space.md": "x\n"}
    assert scan(make_repo, files, "KL504", {"observability": {"runbooks-dir": "ops/runbooks"}})[1] == set()


@pytest.mark.parametrize("name,scenario", [
    ("db-down", "db-down"), ("MariaDB is down", "db-down"), ("Database outage", "db-down"),
    ("mysql-not-responding", "db-down"), ("RabbitMQ queue backlog", "queue-backlog"),
    ("background jobs stuck", "queue-backlog"), ("disk-full", "disk-full"),
    ("Low disk space", "disk-full"), ("Out of space", "disk-full"), ("DiskSpace", "disk-full"),
])
def test_kl504_scenario_patterns(name, scenario):
    import re

    patterns = Settings().observability.runbooks
    assert any(re.search(p, name) for p in patterns[scenario])


@pytest.mark.parametrize("name", ["db-backup-failed", "restore", "Restoring the Koha database",
                                  "secret-rotation"])
def test_kl504_scenario_patterns_do_not_overmatch(name):
    import re

    patterns = Settings().observability.runbooks
    assert not any(re.search(p, name) for ps in patterns.values() for p in ps)


# -- roles --------------------------------------------------------------------------
def test_roles():
    s = Settings()
    assert deployment_role(["compose.yaml"], s) and not deployment_role(["Dockerfile"], s)
    forced = settings_from_mapping({"areas": ["security", "recovery"]})
    assert deployment_role(["Dockerfile"], forced, Area.recovery)
    assert not deployment_role(["compose.yaml"], forced, Area.observability)
    assert area_applies(Area.runtime, ["Dockerfile"], s) == (True, "")
    assert area_applies(Area.observability, ["Dockerfile"], s)[0] is False
    assert area_applies(Area.security, [], s) == (True, "")
    assert area_applies(Area.security, [], forced) == (True, "")
    assert area_applies(Area.delivery, [], forced) == (False, "not in the configured `areas`")

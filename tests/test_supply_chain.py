"""Supply-chain rules (KL301-KL304) and KL208 beyond the catalog examples."""

from __future__ import annotations

import textwrap

import pytest

import kohalint
from kohalint.checks.docker_cli import deployed_images, parse_image, pushes

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
PUB = ".github/workflows/publish.yml"


def findings(make_repo, files: dict[str, str], rule: str, name: str = "repo", **config):
    root = make_repo({k: textwrap.dedent(v) for k, v in files.items()}, name=name)
    return [f for f in kohalint.scan(root, config={"select": [rule], **config}).findings
            if f.rule_id == rule]


def lines(make_repo, files, rule, name: str = "repo", **config) -> set[int]:
    return {f.location.line for f in findings(make_repo, files, rule, name, **config)}


def build_push(extra: str = "", push: str = "true", perms: str = "") -> str:
    return (f"on: push\njobs:\n  publish:\n    runs-on: x\n{perms}    steps:\n"
            f"      - id: build\n        uses: docker/build-push-action@{SHA}\n        with:\n"
            f"          push: {push}\n{extra}")


# -- what publishes --------------------------------------------------------------------
@pytest.mark.parametrize("cmd,publishes", [
    ("docker push ghcr.io/acme/koha:sha-1234567", True),
    ("docker image push ghcr.io/acme/koha:sha-1234567", True),
    ("docker buildx build --push -t x .", True),
    ("docker buildx build --output type=registry -t x .", True),
    ("docker buildx build -o type=image,push=true .", True),
    ("docker buildx bake --push", True),
    ("podman push x", True),
    ("crane push img.tar x", True),
    ("docker build -t x .", False),
    ("docker buildx build --load -t x .", False),
    ("docker pull x", False),
])
def test_publishing_commands(cmd, publishes):
    assert pushes(tuple(cmd.split())) is publishes


@pytest.mark.parametrize("push,publishes", [
    ("true", True), ("${{ github.event_name != 'pull_request' }}", True), ("false", False),
])
def test_build_push_action_push_input(make_repo, push, publishes):
    assert bool(lines(make_repo, {PUB: build_push(push=push)}, "KL301")) is publishes


# -- KL301 -----------------------------------------------------------------------------
@pytest.mark.parametrize("extra_step,has_sbom", [
    ("          sbom: true\n", True),
    ("          attests: type=sbom\n", True),
    ("          sbom: false\n", False),
    (f"      - uses: anchore/sbom-action@{SHA}\n        with: {{image: x}}\n", True),
    (f"      - uses: actions/attest-sbom@{SHA}\n", True),
    (f"      - uses: aquasecurity/trivy-action@{SHA}\n        with: {{format: cyclonedx}}\n", True),
    (f"      - uses: aquasecurity/trivy-action@{SHA}\n        with: {{format: sarif}}\n", False),
    ("      - run: trivy image --format spdx-json -o sbom.json x\n", True),
    ("      - run: cosign attest --type cyclonedx --predicate sbom.json x@sha256:1\n", True),
])
def test_kl301_sbom_sources(make_repo, extra_step, has_sbom):
    assert lines(make_repo, {PUB: build_push(extra_step)}, "KL301") == (set() if has_sbom else {3})


# -- KL302 -----------------------------------------------------------------------------
@pytest.mark.parametrize("extra,expected", [
    ("          provenance: false\n", {10}),
    ("          provenance: \"false\"\n", {10}),
    ("          provenance: true\n", set()),
    ("          provenance: mode=min\n", set()),
    ("          provenance: mode=max\n", set()),
    ("          attests: type=provenance,mode=max\n", set()),
    ("", {3}),
    (f"          provenance: false\n      - uses: actions/attest-build-provenance@{SHA}\n", set()),
])
def test_kl302_provenance(make_repo, extra, expected):
    assert lines(make_repo, {PUB: build_push(extra)}, "KL302") == expected


def test_kl302_slsa_generator_job_counts(make_repo):
    text = build_push("          provenance: false\n") + (
        "  provenance:\n    needs: publish\n"
        "    uses: slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@v2.0.0\n")
    assert lines(make_repo, {PUB: text}, "KL302") == set()


@pytest.mark.parametrize("cmd,expected", [
    ("docker buildx build --push --provenance=false -t x .", {6}),
    ("docker buildx build --push --provenance=mode=max -t x .", set()),
    ("docker buildx build --push --attest type=provenance,mode=max -t x .", set()),
])
def test_kl302_buildx_flags(make_repo, cmd, expected):
    text = f"on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - run: {cmd}\n"
    assert lines(make_repo, {PUB: text}, "KL302") == ({3} if expected else set())


# -- KL303 -----------------------------------------------------------------------------
ID_TOKEN = "    permissions:\n      id-token: write\n      packages: write\n"


@pytest.mark.parametrize("sign,perms,expected", [
    ("cosign sign --yes ghcr.io/acme/koha@${{ steps.build.outputs.digest }}", ID_TOKEN, set()),
    (f"cosign sign --yes ghcr.io/acme/koha@{DIGEST}", ID_TOKEN, set()),
    ("cosign sign --yes ghcr.io/acme/koha:sha-1234567", ID_TOKEN, {"tag"}),     # by tag
    ("cosign sign --yes ghcr.io/acme/koha", ID_TOKEN, {"tag"}),
    ("cosign sign --yes ghcr.io/acme/koha@${{ steps.build.outputs.digest }}", "", {"id-token"}),
    ("cosign sign --key env://COSIGN_PRIVATE_KEY ghcr.io/acme/koha@${{ steps.build.outputs.digest }}",
     "", set()),                                                                 # keyed: no OIDC needed
    ("cosign sign --yes $IMAGE_REF", ID_TOKEN, set()),                           # unknown: not guessed
    ('echo "$TAGS" | xargs -I {} cosign sign --yes {}@${DIGEST}', ID_TOKEN, set()),
])
def test_kl303_signing(make_repo, sign, perms, expected):
    text = build_push(f"      - run: {sign}\n", perms=perms)
    got = {f.identity.split("|")[0] for f in findings(make_repo, {PUB: text}, "KL303")}
    assert got == expected


def test_kl303_top_level_id_token_applies_when_job_has_none(make_repo):
    text = build_push("      - run: cosign sign --yes x@${{ steps.build.outputs.digest }}\n")
    text = text.replace("on: push\n", "on: push\npermissions:\n  id-token: write\n")
    assert lines(make_repo, {PUB: text}, "KL303") == set()
    text = text.replace("    runs-on: x\n", "    runs-on: x\n    permissions:\n      packages: write\n")
    assert lines(make_repo, {PUB: text}, "KL303", name="other") == {14}


def test_kl303_no_signing_at_all_is_reported_at_the_job(make_repo):
    assert lines(make_repo, {PUB: build_push()}, "KL303") == {3}


# -- KL304 -----------------------------------------------------------------------------
VERIFY = ("cosign verify ghcr.io/acme/koha@$D --certificate-identity-regexp x "
          "--certificate-oidc-issuer https://token.actions.githubusercontent.com")


@pytest.mark.parametrize("script,expected", [
    (f"{VERIFY}\ndocker compose pull\n", set()),
    (f"docker compose pull\n{VERIFY}\n", {1}),
    ("docker compose up -d\n", {1}),
    ("docker pull x@sha256:1\n", {1}),
    ("docker run --rm x@sha256:1\n", {1}),
    ("docker service update --image x@sha256:1 koha\n", {1}),
    ("docker compose logs koha\ndocker compose ps\n", set()),
    ("gh attestation verify oci://x@$D --owner acme\ndocker compose pull\n", set()),
    ("cosign verify-attestation --type slsaprovenance x@$D\ndocker compose up -d\n", set()),
])
def test_kl304_deploy_scripts(make_repo, script, expected):
    assert lines(make_repo, {"scripts/deploy-prod.sh": script}, "KL304") == expected


def test_kl304_other_scripts_are_not_deploy_scripts(make_repo):
    assert lines(make_repo, {"scripts/dev-up.sh": "docker compose up -d\n"}, "KL304") == set()


@pytest.mark.parametrize("name,env,needs,expected", [
    ("Deploy", "", "", {9}),
    ("CI", "production", "", {9}),
    ("CI", "", "", set()),                  # not a deploy workflow
    ("Deploy", "", "verify", set()),        # verified in a job it needs
])
def test_kl304_deploy_workflows(make_repo, name, env, needs, expected):
    environment = f"    environment: {env}\n" if env else ""
    need = f"    needs: [{needs}]\n" if needs else ""
    text = (f"name: {name}\non: workflow_dispatch\njobs:\n  verify:\n    runs-on: x\n    steps:\n"
            f"      - run: {VERIFY}\n  roll:\n    runs-on: x\n{environment}{need}    steps:\n"
            f"      - run: docker compose pull\n")
    got = lines(make_repo, {".github/workflows/x.yml": text}, "KL304")
    assert got == ({text.split("\n").index("      - run: docker compose pull") + 1} if expected else set())


# -- KL208 -----------------------------------------------------------------------------
@pytest.mark.parametrize("image,pattern,flagged", [
    ("mariadb:11.4", None, True),
    ("mariadb", None, True),
    ("mariadb:latest", None, True),
    (f"mariadb:11.4@{DIGEST}", None, False),
    (f"mariadb@{DIGEST}", None, False),
    ("ghcr.io/acme/koha:sha-1a2b3c4", None, False),
    ("ghcr.io/acme/koha:sha-1a2b3c", None, True),          # too short for the default pattern
    ("ghcr.io/acme/koha:v24.05.1", r"v\d+\.\d+\.\d+", False),
    ("localhost:5000/koha", None, True),
])
def test_kl208_compose_images(make_repo, image, pattern, flagged):
    config = {"runtime": {"immutable-tag-pattern": pattern}} if pattern else {}
    text = f"services:\n  app:\n    image: {image}\n"
    assert lines(make_repo, {"compose.yaml": text}, "KL208", **config) == ({3} if flagged else set())


def test_kl208_deploy_time_image_is_a_low_note_and_env_template_resolves(make_repo):
    text = "services:\n  a:\n    image: ${A_IMAGE}\n  b:\n    image: ${B_IMAGE}\n"
    got = findings(make_repo, {"compose.yaml": text, ".env.example": f"B_IMAGE=b@{DIGEST}\n"}, "KL208")
    assert [(f.location.line, f.severity.value) for f in got] == [(3, "low")]


@pytest.mark.parametrize("image,flagged", [("koha:dev", False), ("ghcr.io/acme/koha:latest", True)])
def test_kl208_built_services(make_repo, image, flagged):
    text = f"services:\n  koha:\n    build: .\n    image: {image}\n"
    assert lines(make_repo, {"compose.yaml": text}, "KL208") == ({4} if flagged else set())


def test_kl208_override_reports_where_the_image_is_set(make_repo):
    files = {"compose.yaml": f"services:\n  db:\n    image: mariadb@{DIGEST}\n",
             "compose.override.yaml": "services:\n  db:\n    image: mariadb:11\n"}
    assert {(f.location.path, f.location.line) for f in findings(make_repo, files, "KL208")} == {
        ("compose.override.yaml", 3)}


def test_kl208_deploy_sets_compose_image_variables(make_repo):
    files = {
        "compose.yaml": "services:\n  koha:\n    image: ghcr.io/acme/koha:${KOHA_TAG:-sha-1234567}\n"
                        "  db:\n    image: ${DB_IMAGE:-mariadb@" + DIGEST + "}\n",
        "scripts/deploy.sh": "KOHA_TAG=latest docker compose up -d\nexport DB_IMAGE=mariadb:11\n"
                             "export OTHER=latest\n",
    }
    assert {(f.location.path, f.location.line) for f in findings(make_repo, files, "KL208")} == {
        ("scripts/deploy.sh", 1), ("scripts/deploy.sh", 2)}


@pytest.mark.parametrize("argv,images", [
    ("docker pull --platform linux/amd64 mariadb:11", ["mariadb:11"]),
    ("docker run -d --name x -p 80:80 -e A=1 nginx:1.27 nginx -g x", ["nginx:1.27"]),
    ("docker service create --name web --replicas 2 nginx:1", ["nginx:1"]),
    ("kubectl set image deployment/koha koha=ghcr.io/acme/koha:1", ["ghcr.io/acme/koha:1"]),
    ("docker compose -f a.yml up -d", []),
    ("docker compose logs", None),
    ("docker ps", None),
])
def test_deployed_images(argv, images):
    assert deployed_images(tuple(argv.split())) == images


@pytest.mark.parametrize("text,name,tag,digest", [
    ("mariadb", "mariadb", None, None),
    ("localhost:5000/a/b:1", "localhost:5000/a/b", "1", None),
    (f"ghcr.io/a/b:1@{DIGEST}", "ghcr.io/a/b", "1", DIGEST),
    ("docker://alpine:3", "alpine", "3", None),
])
def test_parse_image(text, name, tag, digest):
    ref = parse_image(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)

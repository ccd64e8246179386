"""Plain chunks (simple commands in pipelines and lists, no substitution or
heredoc) are read by the fallback alone, without bashlex: the script read
that way must be the one bashlex reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kohalint
import kohalint.documents.shell as shell_mod
import kohalint.documents.shell_chunks as shell_chunks
from kohalint.documents.shell import parse_shell
from tests.hostile import strategies as S
from tests.unit.test_shell import _summary

ROOT = Path(__file__).resolve().parents[2]

REALISTIC = [
    "docker compose pull && docker compose up -d --remove-orphans",
    "docker build -t ghcr.io/acme/koha:${{ github.sha }} . && docker push ghcr.io/acme/koha:${{ github.sha }}",
    'echo "${{ secrets.TOKEN }}" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin',
    "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\\n"
    "    && rm -rf /var/lib/apt/lists/*",
    "set -euo pipefail\nmariadb-dump --single-transaction --all-databases | gzip > /backup/db.sql.gz",
    "0 3 * * * root /srv/koha/scripts/backup.sh >> /var/log/backup.log 2>&1",
    "curl -fsSL https://example.org/install.sh | sh",
    "X=1 Y='a b' sudo -E -u koha env Z=3 /usr/bin/perl script.pl &",
    "cd /srv && ./restore.sh --stop-datetime \"$STOP\" ; echo done # a comment",
    "trivy image --exit-code 1 --severity HIGH,CRITICAL \"$IMAGE\" || exit 1",
    "! grep -q x f; test -f /x && echo yes || echo no",
    "cosign sign --yes ghcr.io/acme/koha@${DIGEST}\nsyft ghcr.io/acme/koha -o spdx-json > sbom.json",
    "kubectl exec -- mysql -e 'SHOW BINARY LOGS'",
    "echo a\\ b 'c d' \"e $f\" g*.txt {a,b} ~/x",
    "exec 3>&1\nexec >log 2>&1",
    "time make -j4",
    "a=1\nb=2 c=3 ./run.sh\n",
]


def _both(text: str, monkeypatch: pytest.MonkeyPatch, line_offset: int = 0) -> tuple[tuple, tuple]:
    script = parse_shell(text, line_offset=line_offset)
    plain = _summary(script), script.error
    with monkeypatch.context() as m:
        m.setattr(shell_chunks, "PLAIN_TO_FALLBACK", False)
        script = parse_shell(text, line_offset=line_offset)
        bashlex = _summary(script), script.error
    return plain, bashlex


@pytest.mark.parametrize("text", REALISTIC)
def test_realistic_plain_scripts_read_the_same(text, monkeypatch):
    plain, bashlex = _both(text, monkeypatch)
    assert plain == bashlex
    assert plain[0][0], "no command read"


def test_plain_chunks_do_not_reach_bashlex_and_others_do(monkeypatch):
    offered: list[str] = []
    real = shell_chunks.bashlex_parse
    monkeypatch.setattr(shell_chunks, "bashlex_parse", lambda src, *a: offered.append(src) or real(src, *a))
    s = parse_shell("docker compose up -d\nif true; then echo $(date); fi\nbackup() { tar c /x; }\n")
    assert [c.name for c in s.commands] == ["docker", "true", "echo", "date", "tar"]
    assert not s.degraded
    assert offered == ["if true; then echo $(date); fi\nbackup() { tar c /x; }\n"]


def test_every_script_of_the_examples_reads_the_same(monkeypatch):
    seen: dict[str, int] = {}
    real_init = shell_mod._Builder.__init__

    def recording(self, text: str, line_offset: int) -> None:
        seen.setdefault(text, line_offset)
        real_init(self, text, line_offset)

    with monkeypatch.context() as m:
        m.setattr(shell_mod._Builder, "__init__", recording)
        m.setenv("KOHALINT_JOBS", "1")
        for example in ("noncompliant", "compliant"):
            kohalint.scan(ROOT / "examples" / example)
    assert len(seen) > 20
    for text, offset in seen.items():
        plain, bashlex = _both(text, monkeypatch, offset)
        assert plain == bashlex, text


_PLAIN_TOKENS = [t for t in S.SHELL_TOKENS if t not in ("$(", "`", "<(", "<<EOF\n", "<<-'X'\n")] + [
    "docker", "compose", "-d", "$IMAGE", "${IMAGE}", "${{ github.sha }}", "a=b", "'x y'", '"$A b"', "2>/dev/null",
]


@S.budget()
@given(st.one_of(S.soup(_PLAIN_TOKENS, max_size=30), S.soup(S.SHELL_TOKENS, max_size=30)))
def test_arbitrary_scripts_read_the_same(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        plain, bashlex = _both(text, monkeypatch)
        assert plain == bashlex

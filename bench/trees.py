"""The benchmark trees, generated deterministically (same bytes on every machine).

* `sample`: `examples/noncompliant` (a Koha-like deployment repository) as its
  own git repository.
* `big`: 200 copies of the sample under `copies/NNN/` plus 3,000 generated
  source files under `src/` (Perl, templates, JavaScript, CSS, a little YAML)
  of about 12 KB each, the bulk of a real Koha checkout. Some of their lines
  carry what secret scanners meet in real code: quoted checksums and UUIDs
  (not secrets), placeholders and encrypted values (not secrets), and fake
  credentials of the kinds detect-secrets' plugins know.
* `scale-N`: the first N copies and N*15 generated files, for the
  linear-growth measurement.

Every tree is a git repository with every file added (`git add -A -f`): a
committed `.env` is part of the sample. The trees live in `bench/out/`
(gitignored); a tree whose stamp matches is reused.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import string
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "noncompliant"
OUT = ROOT / "bench" / "out"
COPIES = 200
GENERATED = 3000
TARGET_BYTES = 12_000
SEED = 20240611
VERSION = "1"  # bump when the generator changes: the stamp makes old trees stale

_B64 = string.ascii_letters + string.digits + "+/"
_ALNUM = string.ascii_letters + string.digits
_WORDS = ("biblio", "item", "patron", "borrower", "circulation", "holds", "reserve", "branch",
          "library", "record", "marc", "field", "subfield", "barcode", "callnumber", "issue",
          "renewal", "fine", "account", "notice", "letter", "report", "search", "index",
          "authority", "serial", "subscription", "acquisition", "order", "basket", "vendor",
          "budget", "fund", "invoice", "checkout", "checkin", "transfer", "collection", "shelf",
          "opac", "staff", "member", "category", "attribute", "message", "queue", "session")


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _ident(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(_WORDS) for _ in range(parts))


def _hex(rng: random.Random, n: int) -> str:
    return _rand(rng, "0123456789abcdef", n)


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


# Lines a secret scanner meets in source code. Each returns (line, kind):
# kind "secret" is a fake credential; the other kinds are not secrets.
def _special(rng: random.Random, lang: str) -> tuple[str, str]:
    roll = rng.random()
    q = "'" if lang in ("pm", "pl") else '"'
    if roll < 0.30:
        algo, n = rng.choice((("sha1", 40), ("sha256", 64), ("md5", 32)))
        return f"    {algo}_checksum => {q}{_hex(rng, n)}{q},  # {algo} of the upstream release", "checksum"
    if roll < 0.50:
        return f"    uuid => {q}{_uuid(rng)}{q},", "uuid"
    if roll < 0.58:
        value = rng.choice(("changeme", "CHANGE_ME", "<your-api-key>", "xxxxxxxxxxxxxxxx", "${API_TOKEN}",
                            "example-password", "REPLACE_WITH_TOKEN"))
        return f"    api_key => {q}{value}{q},", "placeholder"
    if roll < 0.64:
        data = _rand(rng, _B64, 44)
        iv, tag = _rand(rng, _B64, 24), _rand(rng, _B64, 24)
        return (f"    db_password => {q}ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:str]{q},",
                "encrypted")
    if roll < 0.72:
        return f"    secret_key => {q}{_rand(rng, _B64, 40)}{q},", "secret"
    if roll < 0.78:
        return (f"    aws_access_key_id => {q}AKIA{_rand(rng, string.ascii_uppercase + string.digits, 16)}{q},",
                "secret")
    if roll < 0.84:
        return f"    password => {q}{_rand(rng, _ALNUM, 6)}-{_rand(rng, _ALNUM, 8)}{q},", "secret"
    if roll < 0.88:
        return f"    github_token => {q}ghp_{_rand(rng, _ALNUM, 36)}{q},", "secret"
    if roll < 0.92:
        return (f"    webhook => {q}https://hooks.slack.com/services/T{_rand(rng, string.ascii_uppercase, 8)}"
                f"/B{_rand(rng, string.ascii_uppercase, 8)}/{_rand(rng, _ALNUM, 24)}{q},", "secret")
    if roll < 0.96:
        return f"    dsn => {q}mysql://koha:{_rand(rng, _ALNUM, 12)}@db:3306/koha{q},", "secret"
    return f"    session_salt => {q}{_hex(rng, 48)}{q},", "secret"


def _code_line(rng: random.Random, lang: str, depth: int) -> str:
    pad = "    " * depth
    a, b = _ident(rng), _ident(rng, 1)
    r = rng.random()
    if lang in ("pm", "pl"):
        if r < 0.25:
            return f"{pad}my ${a} = ${b}->{{{rng.choice(_WORDS)}}} // {rng.randint(0, 999)};"
        if r < 0.45:
            return f"{pad}${a}->search({{ {b}_id => ${b}_id, status => '{rng.choice(_WORDS)}' }});"
        if r < 0.60:
            return f"{pad}return unless defined ${a};"
        if r < 0.75:
            return f"{pad}# {rng.choice(_WORDS).capitalize()} {' '.join(rng.choices(_WORDS, k=6))}."
        return f"{pad}push @{a}, {{ {b} => ${b}, count => scalar @{rng.choice(_WORDS)}s }};"
    if lang == "js":
        if r < 0.3:
            return f"{pad}const {a} = $(\"#{b}\").val() || \"{rng.choice(_WORDS)}\";"
        if r < 0.55:
            return f"{pad}if ({a}.length > {rng.randint(1, 50)}) {{ {b}({a}); }}"
        if r < 0.7:
            return f"{pad}// {' '.join(rng.choices(_WORDS, k=7))}"
        return f"{pad}$.ajax({{ url: \"/api/v1/{b}s/\" + {a}, method: \"GET\" }});"
    if lang == "tt":
        if r < 0.4:
            return f"{pad}<td class=\"{b}\">[% {a} | html %]</td>"
        if r < 0.7:
            return f"{pad}[% IF {a} %]<span>[% t('{' '.join(rng.choices(_WORDS, k=3))}') %]</span>[% END %]"
        return f"{pad}<a href=\"/cgi-bin/koha/{b}.pl?id=[% {a} | uri %]\">[% {b} | html %]</a>"
    if lang == "css":
        if r < 0.5:
            return f"{pad}.{b}-{rng.choice(_WORDS)} {{ color: #{_hex(rng, 6)}; margin: {rng.randint(0, 20)}px; }}"
        return f"{pad}#{a} > li {{ padding: {rng.randint(0, 9)}px {rng.randint(0, 9)}px; }}"
    return f"{pad}{a}: \"{' '.join(rng.choices(_WORDS, k=4))}\""  # yaml (translations)


_LANGS = (("pm", "Koha/{A}/{B}.pm", 35), ("pl", "{a}/{b}.pl", 10), ("tt", "templates/{a}/{b}.tt", 20),
          ("js", "js/{a}/{b}.js", 20), ("css", "css/{a}-{b}.css", 10), ("yml", "i18n/{a}/{b}.yml", 5))


def generated_file(index: int) -> tuple[str, str, list[tuple[int, str]]]:
    """(relative path, text, [(line, kind) of special lines]) of generated file `index`."""
    rng = random.Random(f"{SEED}:{index}")
    langs = [lang for lang in _LANGS for _ in range(lang[2])]
    lang, pattern, _ = rng.choice(langs)
    a, b = rng.choice(_WORDS), f"{rng.choice(_WORDS)}_{index}"
    rel = "src/" + pattern.format(a=a, b=b, A=a.capitalize(), B=b.capitalize())
    lines: list[str] = []
    specials: list[tuple[int, str]] = []
    # Most files hold a few such lines; a few hold many.
    wanted = rng.choice((0, 0, 1, 1, 2, 2, 3, 4, 6))
    slots = set(rng.sample(range(10, 260), wanted))
    size = 0
    while size < TARGET_BYTES:
        if len(lines) in slots and lang != "css":
            line, kind = _special(rng, lang)
            specials.append((len(lines) + 1, kind))
        else:
            line = _code_line(rng, lang, rng.randint(0, 3))
        lines.append(line)
        size += len(line) + 1
    return rel, "\n".join(lines) + "\n", specials


def _stamp(kind: str, copies: int, generated: int) -> str:
    h = hashlib.sha256(f"{VERSION}|{kind}|{copies}|{generated}".encode())
    for p in sorted(SAMPLE.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(SAMPLE).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _git_add_all(root: Path) -> None:
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A", "-f"], check=True, env=env)


def build(name: str, copies: int, generated: int) -> Path:
    """The tree `bench/out/NAME`: `copies` copies of the sample (0: the sample
    itself at the root) plus `generated` source files."""
    root = OUT / name
    stamp = _stamp(name, copies, generated)
    marker = OUT / f".{name}.stamp"
    if root.is_dir() and marker.is_file() and marker.read_text() == stamp:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if copies == 0:
        shutil.copytree(SAMPLE, root, dirs_exist_ok=True)
    for i in range(copies):
        shutil.copytree(SAMPLE, root / "copies" / f"{i:03d}")
    for i in range(generated):
        rel, text, _ = generated_file(i)
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    _git_add_all(root)
    marker.write_text(stamp)
    return root


def sample() -> Path:
    return build("sample", 0, 0)


def big() -> Path:
    return build("big", COPIES, GENERATED)


def scaled(copies: int) -> Path:
    return build(f"scale-{copies}", copies, copies * GENERATED // COPIES)


def describe(root: Path) -> tuple[int, int]:
    """(files, bytes) of a tree, .git excluded."""
    n = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for f in filenames:
            n += 1
            size += os.lstat(os.path.join(dirpath, f)).st_size
    return n, size


if __name__ == "__main__":
    for tree in (sample(), big()):
        files, size = describe(tree)
        print(f"{tree}: {files} files, {size / 1e6:.1f} MB")

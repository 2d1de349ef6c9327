"""Secret redaction: each kind is replaced, ordinary code is left alone."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrich_core.llm.redact import Redaction, redact_every_rule, redact_secrets

# Fake secrets are assembled at run time so that this file itself does not
# trip secret scanners (push protection, pre-commit hooks).
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SESSION_ID = "ASIA" + "Y34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
GITLAB = "glpat-" + "xY9zAbCdEfGhIjKlMnOp"
SLACK = "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKl"
OPENAI = "sk-proj-" + "Ab3dEf6hIj9lMn2pQr5tUv8xYz1"
OPENAI_LEGACY = "sk-" + "abcdefghij1234567890ABCDEFGHIJ"
ANTHROPIC = "sk-ant-" + "api03-Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Ji0"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_RESTRICTED = "rk_live_" + "51H8abcdEFGHijklMNOP"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA " + "PRIVATE KEY-----"
)


def assert_redacted(text: str, secret: str, kind: str) -> Redaction:
    result = redact_secrets(text)
    assert secret not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert kind in result.kinds
    assert result.count >= 1
    return result


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f'KEY_ID = "{AWS_ID}"', AWS_ID, "aws_access_key_id"),
        (f"session = boto3.Session('{AWS_SESSION_ID}')", AWS_SESSION_ID, "aws_access_key_id"),
        (f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET, "aws_secret_access_key"),
        (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET, "aws_secret_access_key"),
        (f'client(aws_secret_key="{AWS_SECRET}")', AWS_SECRET, "aws_secret_access_key"),
        (f'GH = "{GITHUB}"', GITHUB, "github_token"),
        (f"Github({GITHUB_PAT!r})", GITHUB_PAT, "github_token"),
        (f'gl = Gitlab(url, private_key="{GITLAB}")', GITLAB, "gitlab_token"),
        (f"slack = WebClient('{SLACK}')", SLACK, "slack_token"),
        (f'OpenAI(api_key="{OPENAI}")', OPENAI, "openai_api_key"),
        (f"client = OpenAI('{OPENAI_LEGACY}')", OPENAI_LEGACY, "openai_api_key"),
        (f'Anthropic(api_key="{ANTHROPIC}")', ANTHROPIC, "anthropic_api_key"),
        (f'maps = Client(key="{GOOGLE}")', GOOGLE, "google_api_key"),
        (f'stripe.api_key = "{STRIPE}"', STRIPE, "stripe_key"),
        (f"restricted = '{STRIPE_RESTRICTED}'", STRIPE_RESTRICTED, "stripe_key"),
        (f'auth = "{JWT}"', JWT, "jwt"),
    ],
)
def test_token_shapes(text: str, secret: str, kind: str) -> None:
    result = assert_redacted(text, secret, kind)
    assert result.count == 1
    assert result.kinds == (kind,)


# Each key shape with the key glued to other text, as names and file names hold
# it: `\b` found no edge between a key and a `_` (issue 11: an AWS key followed
# by `_backup` went out as it was).
_KEY_SHAPES = [
    (AWS_ID, "aws_access_key_id"),
    (AWS_SESSION_ID, "aws_access_key_id"),
    (GITHUB, "github_token"),
    (GITHUB_PAT, "github_token"),
    (GITLAB, "gitlab_token"),
    (SLACK, "slack_token"),
    (OPENAI, "openai_api_key"),
    (ANTHROPIC, "anthropic_api_key"),
    (GOOGLE, "google_api_key"),
    (STRIPE, "stripe_key"),
    (JWT, "jwt"),
]


@pytest.mark.parametrize(("secret", "kind"), _KEY_SHAPES)
@pytest.mark.parametrize(
    "template",
    [
        'path = "{key}_backup"',
        'path = "{key}_2024.json"',
        "KEY_{key} = 1",
        'archive = "prod_{key}_old"',
        "{key}_backup = load()",
        'note = "x_{key}"',
    ],
)
def test_keys_glued_to_word_characters_are_redacted(secret: str, kind: str, template: str) -> None:
    text = template.format(key=secret)
    result = redact_secrets(text)
    assert secret not in result.text, result.text
    # Nothing that shows the key's shape survives beside the marker.
    assert secret[:12] not in result.text and secret[-8:] not in result.text, result.text
    assert kind in result.kinds


def test_an_aws_key_followed_by_backup_keeps_the_suffix() -> None:
    result = redact_secrets(f'S3_KEY = "{AWS_ID}_backup"')
    assert result.text == 'S3_KEY = "[REDACTED:aws_access_key_id]_backup"'
    result = redact_secrets(f"{AWS_ID}backup")
    assert result.text == "[REDACTED:aws_access_key_id]backup"


def test_bearer_token_holding_underscores_is_redacted_whole() -> None:
    token = "abc_def_ghi_jkl_mno"  # base64url tokens hold `_` (RFC 6750 b64token)
    result = redact_secrets(f"Authorization: Bearer {token}")
    assert result.text == "Authorization: Bearer [REDACTED:bearer_token]"


@pytest.mark.parametrize(
    "text",
    [
        # A key's prefix inside a longer word is no key: the edge is a letter or digit.
        "xAKIAIOSFODNN7EXAMPLE = 1",
        "AKIAIOSFODNN7EXAMPLEXYZ = 1",  # 23 characters of the key alphabet: not a key id
        "mask-abcdefghij1234567890ABCDEFGHIJ",
        "desk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ],
)
def test_key_prefixes_inside_longer_words_are_kept(text: str) -> None:
    assert redact_secrets(text) == Redaction(text, 0, ())


def test_specific_kind_wins_over_generic_assignment() -> None:
    result = redact_secrets(f'api_key = "{OPENAI}"')
    assert result == Redaction('api_key = "[REDACTED:openai_api_key]"', 1, ("openai_api_key",))


def test_private_key_block() -> None:
    text = f'KEY = """\n{PEM}\n"""\nsign(KEY)\n'
    result = assert_redacted(text, "MIIEowIBAAKCAQEAu1SU1", "private_key_block")
    assert result.text == 'KEY = """\n[REDACTED:private_key_block]\n"""\nsign(KEY)\n'
    assert result.count == 1


@pytest.mark.parametrize(
    "header",
    [
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    ],
)
def test_private_key_variants(header: str) -> None:
    footer = header.replace("BEGIN", "END")
    text = f"k = '''{header}\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n{footer}'''"
    result = redact_secrets(text)
    assert result.text == "k = '''[REDACTED:private_key_block]'''"


def test_private_key_block_cut_off_by_span_end() -> None:
    text = 'KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHC'
    result = redact_secrets(text)
    assert result.text == 'KEY = """[REDACTED:private_key_block]'


def test_public_key_and_certificate_are_kept() -> None:
    text = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        "-----END PUBLIC KEY-----"
    )
    assert redact_secrets(text) == Redaction(text, 0, ())


@pytest.mark.parametrize(
    "template",
    [
        'headers = {{"Authorization": "Bearer {token}"}}',
        "curl -H 'Authorization: Bearer {token}' https://api.example.com",
        "Authorization: bearer {token}",
        'session.headers["authorization"] = "Bearer {token}"',
    ],
)
def test_bearer_tokens(template: str) -> None:
    token = "mF_9.B5f-4.1JqM"
    text = template.format(token=token)
    result = redact_secrets(text)
    assert result.text == template.format(token="[REDACTED:bearer_token]")
    assert result.kinds == ("bearer_token",)


def test_bearer_jwt_is_reported_as_jwt() -> None:
    result = redact_secrets(f'headers = {{"Authorization": "Bearer {JWT}"}}')
    assert result.text == 'headers = {"Authorization": "Bearer [REDACTED:jwt]"}'
    assert result.count == 1


def test_bearer_built_from_a_variable_is_code() -> None:
    text = 'headers = {"Authorization": f"Bearer {self.token}"}'
    assert redact_secrets(text) == Redaction(text, 0, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'DSN = "postgresql://app:s3cr3t-Pa55@db.internal:5432/app"',
            'DSN = "postgresql://app:[REDACTED:url_password]@db.internal:5432/app"',
        ),
        (
            "redis.from_url('redis://:hunter2@cache:6379/0')",
            "redis.from_url('redis://:[REDACTED:url_password]@cache:6379/0')",
        ),
        (
            "pip install -i https://bob:tok3n@pypi.example.com/simple pkg",
            "pip install -i https://bob:[REDACTED:url_password]@pypi.example.com/simple pkg",
        ),
    ],
)
def test_url_passwords_only_the_password_is_redacted(text: str, expected: str) -> None:
    result = redact_secrets(text)
    assert result.text == expected
    assert result.kinds == ("url_password",)


@pytest.mark.parametrize(
    "text",
    [
        'url = f"postgresql://{user}:{password}@{host}/db"',
        'url = "postgresql://%s:%s@%s/db" % (user, password, host)',
        'url = "postgresql://app:%(password)s@db/app"',
        'url = "postgresql://app:${DB_PASSWORD}@db/app"',
        'url = "https://example.com/path?q=a:b@c"',
        'git = "git@github.com:owner/repo.git"',
        'url = "https://user@example.com/"',
    ],
)
def test_url_templates_and_userinfo_without_password_are_kept(text: str) -> None:
    assert redact_secrets(text) == Redaction(text, 0, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('password = "hunter2hunter2"', 'password = "[REDACTED:generic_secret]"'),
        ("DB_PASSWORD = 'c0rrect-h0rse'", "DB_PASSWORD = '[REDACTED:generic_secret]'"),
        ('passwd="letmein123"', 'passwd="[REDACTED:generic_secret]"'),
        ('client_secret: str = "0a1b2c3d4e5f"', 'client_secret: str = "[REDACTED:generic_secret]"'),
        ('{"api_key": "q8w7e6r5t4y3"}', '{"api_key": "[REDACTED:generic_secret]"}'),
        (
            'headers["X-API-KEY"] = "q8w7e6r5t4y3"',
            'headers["X-API-KEY"] = "[REDACTED:generic_secret]"',
        ),
        ("self.apiKey = 'q8w7e6r5t4y3'", "self.apiKey = '[REDACTED:generic_secret]'"),
        ('APIKEY = "q8w7e6r5t4y3"', 'APIKEY = "[REDACTED:generic_secret]"'),
        ('login(user, password="pa$$w0rd!")', 'login(user, password="[REDACTED:generic_secret]")'),
        ('auth_token = r"abc\\def\\ghi"', 'auth_token = r"[REDACTED:generic_secret]"'),
        ('if token == "deadbeef42":', 'if token == "[REDACTED:generic_secret]":'),
        (
            'os.environ["MYTOKEN"] = "zz11yy22xx"',
            'os.environ["MYTOKEN"] = "[REDACTED:generic_secret]"',
        ),
        ("secret_key: 'django-insecure-x7'", "secret_key: '[REDACTED:generic_secret]'"),
        ('client_secrets = "abcdefgh"', 'client_secrets = "[REDACTED:generic_secret]"'),
    ],
)
def test_generic_secret_assignments(text: str, expected: str) -> None:
    result = redact_secrets(text)
    assert result.text == expected
    assert result.count == 1
    assert result.kinds == ("generic_secret",)


@pytest.mark.parametrize(
    "text",
    [
        "token = tokens[0]",
        'password = ""',
        'password = "short"',
        'password = "xxxxxxxxxx"',
        'password = "********"',
        'PASSWORD_PROMPT = "Enter your password:"',
        'token = f"{prefix}-{suffix}-value"',
        'secret = b"raw-bytes-value"',
        'tokenizer = "bert-base-uncased"',
        'secretary = "Jane-Doe-Smith"',
        'username = "administrator"',
        "password = get_password()",
        "token = os.environ['GITHUB_TOKEN']",
        'TOKEN_ENV = os.getenv("SERVICE_TOKEN")',
        "def check_password(password: str) -> bool:\n    return bcrypt.checkpw(password, stored)",
        "import secrets\n\ntoken = secrets.token_urlsafe(32)",
        'parser.add_argument("--token", help="the API token to use")',
    ],
)
def test_ordinary_code_is_unchanged(text: str) -> None:
    assert redact_secrets(text) == Redaction(text, 0, ())


def test_ordinary_module_is_unchanged() -> None:
    text = '''
import hashlib
from dataclasses import dataclass


@dataclass
class Tokenizer:
    """Split text into tokens; keys are looked up in the vocabulary."""

    vocabulary: dict[str, int]
    unknown_token: str = "<unk>"

    def encode(self, text: str) -> list[int]:
        tokens = text.split()
        return [self.vocabulary.get(token, 0) for token in tokens]

    def digest(self) -> str:
        key_material = ",".join(sorted(self.vocabulary))
        return hashlib.sha256(key_material.encode()).hexdigest()
'''
    assert redact_secrets(text) == Redaction(text, 0, ())


def test_several_secrets_counted_and_kinds_sorted_unique() -> None:
    text = (
        f'PEM = """{PEM}"""\n'
        f'ID = "{AWS_ID}"\n'
        f'OTHER_ID = "{AWS_SESSION_ID}"\n'
        'password = "hunter2hunter2"\n'
    )
    result = redact_secrets(text)
    assert result.count == 4
    assert result.kinds == ("aws_access_key_id", "generic_secret", "private_key_block")
    assert result.text == (
        'PEM = """[REDACTED:private_key_block]"""\n'
        'ID = "[REDACTED:aws_access_key_id]"\n'
        'OTHER_ID = "[REDACTED:aws_access_key_id]"\n'
        'password = "[REDACTED:generic_secret]"\n'
    )


def test_redaction_is_idempotent() -> None:
    once = redact_secrets(f'api_key = "{OPENAI}"\npassword = "hunter2hunter2"\n')
    twice = redact_secrets(once.text)
    assert twice.text == once.text
    assert twice.count == 0


def test_empty_text() -> None:
    assert redact_secrets("") == Redaction("", 0, ())


def test_long_pathological_lines_stay_linear() -> None:
    # A minified line of many `key: value` pairs and a long word run: the
    # patterns must not rescan to the end of the line at every position.
    lines = [
        "x" * 200_000,
        "a: b " * 40_000,
        "token=" * 30_000,
        "http:" * 40_000,
    ]
    started = time.perf_counter()
    for line in lines:
        assert redact_secrets(line).count == 0
        assert redact_every_rule(line).count == 0  # the full scan, past the pre-check
    # Generous bound: quadratic behaviour would take minutes, not seconds.
    assert time.perf_counter() - started < 10


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif hasattr(value, "values"):  # pytest.param(...)
        yield from _strings(value.values)


def _known_secrets_in_context() -> list[str]:
    """Every string these tests redact or keep: the module's fake secrets, each
    parametrized case here and in test_outbound.py, and each secret assigned,
    keyed and passed the ways code holds them."""
    texts: list[str] = []
    for module in (sys.modules[__name__], sys.modules["tests.test_outbound"]):
        for value in vars(module).values():
            if isinstance(value, str):
                texts.append(value)
            for mark in getattr(value, "pytestmark", []):
                if mark.name == "parametrize":
                    texts += _strings(mark.args[1])
    secrets = [v for k, v in globals().items() if k.isupper() and isinstance(v, str)]
    for secret in secrets:
        texts += [
            f'token = "{secret}"',
            f"headers = {{'Authorization': 'Bearer {secret}'}}",
            f"connect(dsn='postgres://app:{secret}@db/app')",
            f"def connect(key={secret!r}):",
        ]
    return texts


def test_the_pre_check_never_changes_what_is_redacted() -> None:
    import tests.test_outbound  # noqa: F401  # its cases join the corpus

    texts = _known_secrets_in_context()
    assert sum(redact_every_rule(t).count for t in texts) > 50  # the corpus holds secrets
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.glob("[!.]*/**/*.py")):  # real code, this repository's
        source = path.read_text()
        texts += [source, *source.splitlines()]
    for text in texts:
        assert redact_secrets(text) == redact_every_rule(text), text[:200]


def test_every_string_of_a_span_s_context_is_redacted_before_a_request() -> None:
    """`outbound_span`'s contract: nothing of a span or its context reaches a request
    without `redact_secrets`, whichever context part carries it."""
    from enrich_core.llm.outbound import build_prompt, outbound_span
    from enrich_core.records.context import CONTEXT_PARTS, CalleeSummary, SpanContext
    from enrich_core.source.spans import extract_spans

    source = (
        "class Vault:\n"
        "    def read(self, name):\n"
        f'        """Read a secret; the test key is {GITLAB}."""\n'
        "        return fetch(name)\n"
    )
    span = next(s for s in extract_spans("vault.py", source) if s.qualname == "Vault.read")
    context = SpanContext(
        imports=("import os", f"from keys import load  # {GITHUB}"),
        outline=f'class Vault:\n    token = "{AWS_ID}"\n    def read(self, name): ...',
        callees=(CalleeSummary(f"fetch_{SLACK}", f"keys.{STRIPE}", f"Calls OpenAI('{OPENAI}')."),),
    )
    secrets = (GITLAB, GITHUB, AWS_ID, SLACK, STRIPE, OPENAI)
    outbound = outbound_span(span, context)
    fields = [outbound.docstring or "", outbound.code, *outbound.imports, outbound.outline or ""]
    for callee in outbound.callees:
        fields += [callee.name, callee.qualname, callee.summary]
    for secret in secrets:
        assert not any(secret in text for text in fields), secret[:6]
    # The docstring counts in its field and in the code; each context string once.
    assert outbound.redactions == 2 + 5
    prompt = build_prompt(outbound, parts=CONTEXT_PARTS)
    sent = "\n".join(m["content"] for m in prompt.messages)
    for part in ("Imports:", "Enclosing class outline:", "Functions it calls", "Docstring"):
        assert part in sent  # every part was sent, so each was checked on the wire text
    for secret in secrets:
        assert secret not in sent, secret[:6]
    assert "[REDACTED:gitlab_token]" in sent and "[REDACTED:slack_token]" in sent

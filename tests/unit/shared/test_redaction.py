"""Redaction: no password or secret parameter of a URL survives, whatever shape the URL has."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.redaction import redact_text, redact_url, scrub


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("redis://localhost:6379/0", "redis://localhost:6379/0", id="no-password"),
        pytest.param("redis://:pw@h:1/0", "redis://:***@h:1/0", id="redis-password-only"),
        pytest.param("redis://pw@h:1/0", "redis://***@h:1/0", id="redis-bare-password"),
        pytest.param("rediss://user:pw@h:1/0", "rediss://user:***@h:1/0", id="redis-acl-user"),
        pytest.param("redis://h:1/0?password=pw", "redis://h:1/0?password=***", id="redis-query"),
        pytest.param(
            "redis+sentinel://:pw@s1:26379,s2:26379/mymaster",
            "redis+sentinel://:***@s1:26379,s2:26379/mymaster",
            id="sentinel-hosts",
        ),
        pytest.param(
            "redis://:a@h1:1/0;redis://:b@h2:1/0",
            "redis://:***@h1:1/0;redis://:***@h2:1/0",
            id="kombu-failover",
        ),
        pytest.param("amqp://guest:guest@rabbit//", "amqp://guest:***@rabbit//", id="amqp"),
        pytest.param("unix:///tmp/redis.sock", "unix:///tmp/redis.sock", id="socket"),
        pytest.param(
            "unix://:pw@/tmp/redis.sock?db=1", "unix://:***@/tmp/redis.sock?db=1", id="socket-pw"
        ),
        pytest.param("postgresql://u@h/db", "postgresql://u@h/db", id="pg-user-only"),
        pytest.param(
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
            id="pg-query-password",
        ),
        pytest.param(
            "postgresql+psycopg://app:pw@h1:5432,h2:5432/db",
            "postgresql+psycopg://app:***@h1:5432,h2:5432/db",
            id="pg-multi-host",
        ),
        pytest.param(
            "postgresql://h/db?user=u&PASSWD=pw;sslpassword=x",
            "postgresql://h/db?user=u&PASSWD=***;sslpassword=***",
            id="query-case-and-semicolon",
        ),
        pytest.param(
            "https://h/x?access_token=t&api-key=k&page=2",
            "https://h/x?access_token=***&api-key=***&page=2",
            id="token-and-key-parameters",
        ),
        pytest.param("https://h/x#token=t", "https://h/x#token=***", id="fragment-token"),
        pytest.param(
            "postgresql://u@/db?host=/tmp/s?password=pw",
            "postgresql://u@/db?host=/tmp/s?password=***",
            id="second-question-mark",
        ),
        pytest.param("redis://:p@ss@h:1/0", "redis://:***@h:1/0", id="unescaped-at"),
        pytest.param("redis://:pa/ss@h:1/0", "redis://:***@h:1/0", id="unescaped-slash"),
        pytest.param("redis://:pa?ss@h:1/0", "redis://:***@h:1/0", id="unescaped-question"),
        pytest.param("redis://:pa#ss@h:1/0", "redis://:***@h:1/0", id="unescaped-hash"),
        pytest.param("redis://:p@[::1]:6379/0", "redis://:***@[::1]:6379/0", id="ipv6"),
        pytest.param("redis://h:notaport/0", "redis://h:notaport/0", id="bad-port"),
        pytest.param("not a url", "not a url", id="not-a-url"),
    ],
)
def test_passwords_become_stars_and_the_rest_stays_readable(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_no_url_stays_none() -> None:
    assert redact_url(None) is None


_PASSWORDS = st.text(
    alphabet=string.ascii_letters + string.digits + "!$%&'()*+,;=:@/?#[]~-._ ", min_size=6
).filter(lambda text: len(set(text)) > 3)
_SCHEMES = st.sampled_from(["redis", "rediss", "postgresql", "postgresql+psycopg", "amqp"])
_HOSTS = st.sampled_from(["h", "h:6379", "10.0.0.1:5432", "[::1]:1", "a:1,b:2"])


@given(scheme=_SCHEMES, password=_PASSWORDS, host=_HOSTS)
def test_an_escaped_password_never_survives(scheme: str, password: str, host: str) -> None:
    url = f"{scheme}://user:{quote(password, safe='')}@{host}/0"

    shown = redact_url(url)

    assert shown == f"{scheme}://user:***@{host}/0"


@given(scheme=_SCHEMES, password=_PASSWORDS, host=_HOSTS)
def test_a_password_in_the_query_never_survives(scheme: str, password: str, host: str) -> None:
    url = f"{scheme}://{host}/db?sslmode=require&password={quote(password, safe='')}&x=1"

    assert redact_url(url) == f"{scheme}://{host}/db?sslmode=require&password=***&x=1"


@given(password=st.text(alphabet=string.ascii_letters + string.digits + "!$*+-._~@", min_size=8))
def test_an_unescaped_password_never_survives(password: str) -> None:
    shown = redact_url(f"redis://:{password}@redis:6379/0")

    assert shown == "redis://:***@redis:6379/0"


def test_urls_inside_text_are_redacted() -> None:
    text = "Error connecting to redis://:hunter2@r:6379/0: refused (postgresql://u@h/d?password=pw)"

    shown = redact_text(text)

    assert "hunter2" not in shown
    assert "pw)" not in shown
    assert shown.startswith("Error connecting to redis://:***@r:6379/0")


def test_scrub_hides_secret_keys_and_urls_anywhere_in_a_status() -> None:
    status = {
        "settings": {"api_token": "abc", "redis_url": "redis://:pw@r/0", "api_auth": "token"},
        "findings": ["failed: postgresql://a:pw@h/db unreachable"],
        "password": "pw",
        "count": 3,
    }

    shown = scrub(status)

    assert shown == {
        "settings": {"api_token": "***", "redis_url": "redis://:***@r/0", "api_auth": "token"},
        "findings": ["failed: postgresql://a:***@h/db unreachable"],
        "password": "***",
        "count": 3,
    }

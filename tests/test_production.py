"""Safe to deploy: settings from the environment, SECRET_KEY, CSP, login throttling."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from config.settings import proxy_ssl_header
from tests.factories import UserFactory

PRODUCTION = {
    "SECRET_KEY": "x7Qm2-pK9vLr4Zt8Wn3Yb6Hc1Jd5Fg0Se2Ua7Xo4Ki9Mq3Vz8Ny6Tb1Rw5Lp0Gh",
    "ALLOWED_HOSTS": "signoff.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def manage(*args: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a clean environment: no SECRET_KEY, no DEBUG, own var/.

    (The browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE, which check
    --deploy rightly reports.)
    """
    unset = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    base.update(
        SIGNOFF_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_secret_key_and_debug_a_command_refuses_saying_what_to_set(tmp_path):
    result = manage("migrate", tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Signoff cannot start: SECRET_KEY is not set.")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()
    assert manage("check", tmp_path=tmp_path, DEBUG="true").returncode == 0


def test_the_demo_starts_without_secret_key_and_keeps_its_own_in_var(tmp_path):
    result = manage(
        "demo", "--no-serve", "--password", "pw-12345678", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "var" / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_check_deploy_reports_nothing_with_the_production_settings(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "DEBUG", tmp_path=tmp_path, **PRODUCTION
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    # Without them, the same check names what is missing.
    loose = manage(
        "check", "--deploy", tmp_path=tmp_path, SECRET_KEY=PRODUCTION["SECRET_KEY"]
    )
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in loose.stderr + loose.stdout


def test_the_proxy_ssl_header_is_opt_in_and_checked(monkeypatch):
    monkeypatch.delenv("SECURE_PROXY_SSL_HEADER", raising=False)
    assert proxy_ssl_header() is None
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO, https")
    assert proxy_ssl_header() == ("HTTP_X_FORWARDED_PROTO", "https")
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    with pytest.raises(Exception, match="HTTP_X_FORWARDED_PROTO,https"):
        proxy_ssl_header()


def test_static_files_are_served_by_whitenoise_right_after_security():
    assert settings.MIDDLEWARE[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


STRICT = {
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/docs/"])
def test_pages_carry_a_strict_content_security_policy(db, url):
    response = Client().get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert set(policy.split("; ")) == STRICT
    assert "unsafe-inline" not in policy and "nonce" not in policy
    # Nothing inline for the policy to block: every script has a src, no <style>.
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_repeated_failures_lock_the_user_out_from_that_address_with_a_message(db):
    UserFactory(username="ann", password="pw-correct-horse")
    UserFactory(username="bob", password="pw-correct-horse")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "ann", "wrong").status_code == 200  # the form again
    locked = sign_in(client, "ann", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account from your address" in (
        locked.content.decode()
    )
    assert "blocked for 15 minutes" in locked.content.decode()
    assert 'name="password"' in locked.content.decode()  # still the sign-in page
    # Locked out even with the right password; others are not.
    assert sign_in(client, "ann", "pw-correct-horse").status_code == 429
    assert sign_in(client, "bob", "pw-correct-horse").status_code == 302
    other_address = Client(REMOTE_ADDR="198.51.100.9")
    assert sign_in(other_address, "ann", "pw-correct-horse").status_code == 302


def test_the_lock_out_ends_after_the_cool_off(db):
    UserFactory(username="ann", password="pw-correct-horse")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ann", "wrong")
    assert sign_in(client, "ann", "pw-correct-horse").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert sign_in(client, "ann", "pw-correct-horse").status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(db):
    UserFactory(username="ann", password="pw-correct-horse")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "ann", "wrong")
    assert sign_in(client, "ann", "pw-correct-horse").status_code == 302
    client.logout()
    assert sign_in(client, "ann", "wrong").status_code == 200
    assert not AccessAttempt.objects.filter(failures_since_start__gte=2).exists()


def test_before_collectstatic_pages_still_name_their_static_files(settings, tmp_path):
    from django.templatetags.static import static

    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "config.staticfiles.StaticFiles"},
    }
    assert static("css/signoff.css") == "/static/css/signoff.css"

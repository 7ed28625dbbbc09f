"""Content-Security-Policy without inline script, the CSRF failure page, the mail timeout."""
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.test import Client
from django.urls import reverse

from partnercenter import factories as f
from partnercenter.views import csrf_failure

ROOT = Path(settings.BASE_DIR)
APPS = ["partnercenter", "organization", "customers", "audit", "api"]

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"'{]", re.I), "on… handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _markup_sources():
    folders = [ROOT / name for name in ("templates", "jinja2")]
    folders += [ROOT / app / name for app in APPS for name in ("templates", "jinja2")]
    for folder in folders:
        for path in folder.rglob("*") if folder.exists() else ():
            if path.suffix in {".html", ".jinja", ".jinja2", ".j2"}:
                yield path
    for app in APPS:
        yield from (ROOT / app).glob("templatetags/*.py")
        for name in ("markup.py", "widgets.py", "views.py", "docs.py"):
            if (ROOT / app / name).exists():
                yield ROOT / app / name


def test_no_template_or_python_rendered_markup_has_inline_script_or_style():
    found = []
    for path in _markup_sources():
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}: {what}: {match.group(0)!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("url", [reverse("login"), reverse("customer_login"), "/api/docs/"])
def test_pages_carry_a_policy_that_allows_only_our_own_scripts_and_styles(client, db, url):
    policy = client.get(url)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_signed_in_pages_carry_the_policy_too(as_user, admin_member):
    response = as_user(admin_member).get(reverse("customers:list"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_form_without_its_csrf_token_gets_the_portals_page_in_the_callers_language(db):
    client = Client(enforce_csrf_checks=True)
    data = {"partner_account": "acme", "member_name": "admin", "password": f.DEFAULT_PASSWORD}
    response = client.post(reverse("login"), data)
    assert response.status_code == 403
    body = response.content.decode()
    assert "The form has expired" in body and 'class="navbar' in body
    assert "Content-Security-Policy" in response

    chinese = client.post(reverse("login"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 403
    assert "表单已过期" in chinese.content.decode()


def test_a_csrf_failure_under_the_api_is_json(rf):
    response = csrf_failure(rf.post("/api/customers"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "permission_denied"


def test_sending_mail_gives_up_on_a_stalled_server():
    assert settings.EMAIL_TIMEOUT == 10
    assert EmailBackend().timeout == 10

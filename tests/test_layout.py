"""The layout parts rendered once per process (``partnercenter/templatetags/layout.py``): the
main menu follows each member's permissions and the language, whoever asked before."""
import re

import pytest
from django.urls import reverse

from partnercenter.templatetags import layout

HOME = reverse("customers:list")
MEMBERS = reverse("organization:members")
ROLES = reverse("organization:roles")
SET_LANGUAGE = reverse("set_language")


@pytest.fixture(autouse=True)
def _empty_memo():
    layout._NAV.clear()
    layout._LANGUAGE_OPTIONS.clear()


def _nav(response) -> str:
    html = response.content.decode()
    return html[html.index('id="nav-main"') : html.index(f'action="{SET_LANGUAGE}"')]


def test_each_member_gets_the_menu_of_their_own_permissions(as_user, admin_member, manager, client):
    admin_nav = _nav(as_user(admin_member).get(HOME))
    manager_nav = _nav(as_user(manager).get(HOME))
    again = _nav(as_user(admin_member).get(HOME))
    assert f'href="{MEMBERS}"' in admin_nav and f'href="{ROLES}"' in admin_nav
    assert f'href="{MEMBERS}"' not in manager_nav and f'href="{ROLES}"' not in manager_nav
    assert again == admin_nav
    assert len(layout._NAV) == 2


def test_a_role_change_shows_in_the_menu_at_once(as_user, admin_member, manager):
    client = as_user(manager)
    assert f'href="{MEMBERS}"' not in _nav(client.get(HOME))
    manager.roles.add(admin_member.roles.get())
    assert f'href="{MEMBERS}"' in _nav(client.get(HOME))


def test_the_menu_is_in_the_request_language(as_user, admin_member):
    client = as_user(admin_member)
    english = _nav(client.get(HOME, HTTP_ACCEPT_LANGUAGE="en"))
    chinese = _nav(client.get(HOME, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert ">Sales<" in english and ">Organization<" in english
    assert ">销售<" in chinese and ">组织<" in chinese and ">Sales<" not in chinese


@pytest.mark.parametrize(("language", "selected"), [("en", "en"), ("zh-hans", "zh-hans")])
def test_each_language_is_named_in_itself_and_the_current_one_is_selected(as_user, admin_member, language, selected):
    html = as_user(admin_member).get(HOME, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    switch = html[html.index('id="language-switch"') : html.index("</select>", html.index('id="language-switch"'))]
    options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', switch)
    assert options == [
        ("en", " selected" if selected == "en" else "", "English"),
        ("zh-hans", " selected" if selected == "zh-hans" else "", "简体中文"),
    ]


def test_the_memo_stays_bounded(monkeypatch, as_user, admin_member, manager):
    monkeypatch.setattr(layout, "_MAX_ENTRIES", 1)
    as_user(admin_member).get(HOME)
    nav = _nav(as_user(manager).get(HOME))
    assert len(layout._NAV) == 1 and f'href="{MEMBERS}"' not in nav

"""The polish that tells a real portal from a demo (issue 21, Build 5): Chinese gaps, the
customer's own words in the Account Center, the header, limits that disable their forms, the
password re-entry page and the invitation e-mail."""
from django.urls import reverse

from organization.models import Role
from organization.permissions import BUILTIN_ROLE_DESCRIPTIONS
from partnercenter import factories as f

ROLES = reverse("organization:roles")


def zh(client):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


class TestBuiltInRoleDescriptions:
    def test_every_built_in_role_has_a_described_purpose(self):
        assert set(BUILTIN_ROLE_DESCRIPTIONS) == set(Role.Builtin.values)

    def test_the_roles_page_describes_built_in_roles_in_chinese(self, as_user, admin_member):
        body = zh(as_user(admin_member)).get(ROLES).content.decode()
        assert "拥有全部权限；不能与其他角色同时授予。" in body
        assert "查看客户和操作记录。" in body
        assert "All permissions; cannot be combined with another role." not in body

    def test_a_built_in_roles_page_shows_its_description_in_chinese(self, as_user, admin_member):
        finance = Role.objects.get(builtin="finance")
        body = zh(as_user(admin_member)).get(reverse("organization:role_edit", args=[finance.pk])).content.decode()
        assert "拨款、回收资金并发放代金券。" in body

    def test_a_custom_roles_description_is_shown_as_typed(self, as_user, admin_member, partner):
        Role.objects.create(partner=partner, name="Auditors", description="Reads the log only")
        body = zh(as_user(admin_member)).get(ROLES).content.decode()
        assert "Reads the log only" in body


class TestHeader:
    def test_the_company_is_not_repeated_when_the_name_equals_it(self, as_user, partner):
        member = f.MemberFactory(partner=partner, member_name="boss", display_name=partner.name)
        body = as_user(member).get(reverse("customers:list")).content.decode()
        assert f"{partner.name} · {partner.name}" not in body
        assert partner.name in body

    def test_the_company_follows_a_different_name(self, as_user, admin_member, partner):
        body = as_user(admin_member).get(reverse("customers:list")).content.decode()
        assert f"{admin_member} · {partner.name}" in body

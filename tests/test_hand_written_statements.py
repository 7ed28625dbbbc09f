"""The statements written by hand for the hot path of every list page and API request answer
what the ORM queries they replace would: the member's roles and permissions (``load_roles``),
the customer manager choices of the customer list (``customer_list_managers``, the statement
form of ``assignable_managers``, which the assignment itself checks against) and the API token
with its member and partner (``api.auth.token_by_digest``)."""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import services as api_services
from api.auth import token_by_digest
from api.models import ApiToken
from customers.selectors import customer_list_managers
from organization.backends import load_roles
from organization.models import Role, User
from organization.selectors import assignable_managers
from partnercenter import factories as f


def _orm_roles(user) -> tuple[set, set]:
    rows = Role.objects.filter(members=user).values_list(
        "builtin", "permissions__content_type__app_label", "permissions__codename"
    )
    keys = set(Role.objects.filter(members=user).values_list("builtin", flat=True))
    return keys, {f"{app}.{code}" for _builtin, app, code in rows if code}


def test_load_roles_reads_every_role_and_permission_of_the_member(partner, empty_role):
    custom = Role.objects.create(partner=partner, name="Exports")
    custom.permissions.set(Permission.objects.filter(codename__in=["export_customers", "view_customer"]))
    cases = [
        f.MemberFactory(partner=partner, roles=["system_admin"]),
        f.MemberFactory(partner=partner, roles=["customer_manager", custom]),
        f.MemberFactory(partner=partner, roles=[empty_role]),
        f.MemberFactory(partner=partner, roles=[]),
    ]
    for member in cases:
        fresh = User.objects.get(pk=member.pk)
        load_roles(fresh)
        keys, perms = _orm_roles(member)
        assert set(fresh._role_keys) == keys and len(fresh._role_keys) == member.roles.count()
        assert fresh._role_perm_cache == perms
    assert "customers.export_customers" in _orm_roles(cases[1])[1]
    assert _orm_roles(cases[3]) == (set(), set())


def test_manager_choices_are_the_partners_active_managers_in_name_order(partner, other_partner, admin_member):
    both_roles = ["customer_manager", "customer_manager_supervisor"]
    both = f.MemberFactory(partner=partner, display_name="Bo", roles=both_roles)
    named = [
        f.MemberFactory(partner=partner, display_name=name, roles=["customer_manager"]) for name in ("Cy", "Al", "Al")
    ]
    unnamed = f.MemberFactory(partner=partner, display_name="", member_name="zed", roles=both_roles[1:])
    f.MemberFactory(partner=partner, display_name="Admin only", roles=["system_admin"])
    f.MemberFactory(partner=partner, display_name="Gone", roles=["customer_manager"], is_active=False)
    f.MemberFactory(partner=other_partner, display_name="Elsewhere", roles=["customer_manager"])
    choices = customer_list_managers(admin_member)
    assert choices == [(m.pk, str(m)) for m in assignable_managers(partner.pk)]
    assert [name for _pk, name in choices] == ["zed", "Al", "Al", "Bo", "Cy"]
    assert {pk for pk, _name in choices} == {both.pk, unnamed.pk, *(m.pk for m in named)}
    assert (unnamed.pk, "zed") in choices and choices.count((both.pk, "Bo")) == 1


def _orm_token(token_hash: str) -> ApiToken:
    return (
        ApiToken.objects.select_related("member__partner")
        .annotate(key_revoked_at=F("api_key__revoked_at"))
        .get(token_hash=token_hash)
    )


def _fields(instance) -> list:
    return [getattr(instance, field.attname) for field in instance._meta.concrete_fields]


def test_the_token_statement_reads_the_token_member_and_partner_as_the_orm_query(partner, admin_member):
    key, _raw = api_services.api_key_create(actor=admin_member, name="CI")
    keyed, _raw = api_services.partner_token_create(member=admin_member, api_key=key)
    api_services.api_key_revoke(actor=admin_member, api_key=key)
    plain, _raw = api_services.partner_token_create(member=admin_member)
    ApiToken.objects.filter(pk=plain.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    admin_member.__class__.objects.filter(pk=admin_member.pk).update(is_active=False, display_name="Zoë <b>")
    for made in (keyed, plain):
        orm, statement = _orm_token(made.token_hash), token_by_digest(made.token_hash)
        with CaptureQueriesContext(connection) as captured:
            member, its_partner = statement.member, statement.member.partner
        assert not captured.captured_queries  # loaded with the token, as select_related does
        for expected, got in ((orm, statement), (orm.member, member), (orm.member.partner, its_partner)):
            assert type(got) is type(expected) and _fields(got) == _fields(expected)
            assert got._state.db == expected._state.db and not got._state.adding
        assert statement.key_revoked_at == orm.key_revoked_at
    assert token_by_digest(keyed.token_hash).key_revoked_at is not None
    assert token_by_digest(plain.token_hash).key_revoked_at is None
    assert token_by_digest(plain.token_hash).member.is_active is False
    assert token_by_digest("0" * 64) is None


def test_the_signed_in_user_statement_reads_the_user_and_partner_as_the_orm_query(partner, admin_member):
    from organization.backends import signed_in_user

    User.objects.filter(pk=admin_member.pk).update(display_name="Zoë <b>", last_login=timezone.now())
    people = [admin_member, f.OperatorFactory(), f.CustomerWithUserFactory().user]
    for person in people:
        orm = User.objects.select_related("partner").filter(pk=person.pk).first()
        got = signed_in_user(person.pk)
        with CaptureQueriesContext(connection) as captured:
            its_partner = got.partner
        assert not captured.captured_queries  # loaded with the user, as select_related does
        assert type(got) is User and _fields(got) == _fields(orm)
        assert got._state.db == orm._state.db and not got._state.adding
        if orm.partner is None:
            assert its_partner is None
        else:
            assert _fields(its_partner) == _fields(orm.partner)
    assert signed_in_user(10**9) is None


@pytest.mark.postgres
def test_on_postgresql_they_run_prepared_and_answer_the_same(admin_member):
    """Planned once per connection (``partnercenter.statements``) when queries are not being
    logged; logged (and counted) as any other query when they are."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    answers = []
    for _ in range(2):
        fresh = User.objects.get(pk=admin_member.pk)
        load_roles(fresh)
        answers.append(fresh._role_perm_cache)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len([s for s in prepared if "organization_user_roles" in s]) == 1
    logged = User.objects.get(pk=admin_member.pk)
    with CaptureQueriesContext(connection) as captured:
        load_roles(logged)
    assert len(captured.captured_queries) == 1
    assert f"= {admin_member.pk}" in captured.captured_queries[0]["sql"]
    assert answers[0] == answers[1] == logged._role_perm_cache == _orm_roles(admin_member)[1]
    made, _raw = api_services.partner_token_create(member=admin_member)
    assert token_by_digest(made.token_hash).pk == token_by_digest(made.token_hash).pk == made.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert len([row[0] for row in cursor.fetchall() if "api_apitoken" in row[0]]) == 1


def test_the_setting_turns_them_off_behind_a_pooler_that_cannot_keep_them(monkeypatch):
    from tests.test_settings_ranges import _load

    options = _load(monkeypatch, DB_PREPARED_STATEMENTS="false")["DATABASES"]["default"]["OPTIONS"]
    assert options["prepare_threshold"] is None  # psycopg then prepares nothing
    monkeypatch.delenv("DB_PREPARED_STATEMENTS")
    assert _load(monkeypatch)["DATABASES"]["default"]["OPTIONS"]["prepare_threshold"] == 5

"""The customer manager scope (SPEC R16) follows from the customer-facing roles a member holds:
roles that do not show customers (a custom role with only the API, say) neither lift nor widen
it (issue 15, must fix 6)."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from customers.selectors import customers_visible_to, manager_scope
from organization.models import Role, User
from partnercenter import factories as f

LIST = reverse("customers:list")


def custom_role(partner, name, *perms):
    role = Role.objects.create(partner=partner, name=name)
    role.permissions.set(
        [Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1]) for p in perms]
    )
    return role


def fresh(member):
    """The member as a new request loads them (roles and scope are cached per user object)."""
    return User.objects.get(pk=member.pk)


@pytest.fixture
def world(partner, manager, supervisor):
    managed = f.CustomerFactory(account_name="managed-one", manager=manager)
    unmanaged = f.CustomerFactory(account_name="unmanaged-one")
    for c in (managed, unmanaged):
        f.AssociationFactory(partner=partner, customer=c)
    return managed, unmanaged


# What each built-in role alone sees: the manager its own, the supervisor its managers', the
# others everything.
LIMITED = {"customer_manager": {"managed-one"}, "customer_manager_supervisor": {"managed-one"}}


@pytest.mark.parametrize("builtin", [key for key, _label in Role.Builtin.choices])
def test_a_custom_role_without_customers_keeps_the_scope_of_each_built_in_role(
    as_user, partner, manager, supervisor, world, builtin
):
    api_only = custom_role(partner, "API only", "organization.use_api")
    member = {"customer_manager": manager, "customer_manager_supervisor": supervisor}.get(builtin) or \
        f.MemberFactory(partner=partner, member_name=f"m-{builtin}", roles=[builtin])
    alone = {c.account_name for c in customers_visible_to(fresh(member))}
    member.roles.add(api_only)
    combined = fresh(member)
    assert {c.account_name for c in customers_visible_to(combined)} == alone
    assert alone == LIMITED.get(builtin, {"managed-one", "unmanaged-one"})
    body = as_user(combined).get(LIST).content
    assert b"managed-one" in body
    assert (b"unmanaged-one" in body) == (builtin not in LIMITED)


def test_a_manager_with_an_api_role_cannot_open_or_unbind_another_managers_customer(
    as_user, partner, manager, world
):
    _managed, unmanaged = world
    manager.roles.add(custom_role(partner, "API only", "organization.use_api"))
    client = as_user(manager)
    assert client.get(reverse("customers:detail", args=[unmanaged.pk])).status_code == 404
    assert client.get(reverse("customers:unbind_check", args=[unmanaged.pk])).status_code == 404
    response = client.post(reverse("customers:unbind_submit", args=[unmanaged.pk]), {"reason": "x", "consent": "on"})
    assert response.status_code == 404


def test_a_custom_role_that_shows_customers_lifts_the_limit(partner, manager, world):
    manager.roles.add(custom_role(partner, "Viewer", "customers.view_customer"))
    assert manager_scope(fresh(manager)) is None


def test_a_custom_role_with_a_customer_action_but_no_view_keeps_the_limit(partner, manager, world):
    manager.roles.add(custom_role(partner, "Unbinder", "customers.unbind_association"))
    assert manager_scope(fresh(manager)) == [manager.pk]

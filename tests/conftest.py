"""Shared fixtures: the personas every feature is tested with.

- ``partner``/``admin_member``: a solution provider and its System Administrator;
- ``member_without_permission``: a member of the same partner whose role grants nothing;
- ``viewer``: Read-only role; ``manager``/``supervisor``: customer-manager roles;
- ``other_partner``/``other_member``: an outsider organisation;
- ``customer``/``customer_user``: a customer account owner, associated with ``partner``;
- ``operator``: vendor staff with the admin site.
"""
import importlib
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

from customers.models import Association
from organization.models import Role
from partnercenter import factories as f


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    f.default_password_hash.cache_clear()
    yield
    f.default_password_hash.cache_clear()


_roles_migration = importlib.import_module("organization.migrations.0002_builtin_roles")


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


@pytest.fixture(autouse=True)
def _builtin_roles(request):
    """Every transactional test starts with the built-in roles as their data migration makes
    them (names there, permissions in ``organization.permissions``).

    The flush that ends a transactional test empties every table, roles included; Django then
    re-creates content types and permissions with new ids, which is why ``serialized_rollback``
    cannot be used here (reloading its snapshot collides with the re-created content types).
    Ordinary tests run first, inside the migrated database, and need nothing.
    """
    if not _is_transactional(request):
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Permission

    from organization.permissions import BUILTIN_ROLE_PERMISSIONS, split

    for key, (name, description) in _roles_migration.BUILTIN.items():
        role, _created = Role.objects.update_or_create(builtin=key, defaults={"name": name, "description": description})
        role.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in map(split, BUILTIN_ROLE_PERMISSIONS[key])
            ]
        )


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test its own cache key prefix: what one test cached (estimated counts, rate
    limits, sessions) must not reach the next, in the per-process cache or a shared Redis."""
    settings.CACHES = {
        name: {**conf, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in another language leaves it
    active in the thread (LocaleMiddleware does not switch back), which would otherwise reach
    the next test's service calls and messages."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Tasks run where they are enqueued (after the commit, see notifications.queue), so a test
    of something else needs no worker; tests of the queue (tests/test_task_queue.py) switch
    to the database or RQ backend and run the worker themselves."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


@pytest.fixture
def partner(db):
    return f.PartnerFactory(account_name="acme", name="Acme Cloud")


@pytest.fixture
def admin_member(partner):
    return f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"], is_partner_admin=True)


@pytest.fixture
def empty_role(partner):
    return Role.objects.create(partner=partner, name="Nothing")


@pytest.fixture
def member_without_permission(partner, empty_role):
    return f.MemberFactory(partner=partner, member_name="nobody", roles=[empty_role])


@pytest.fixture
def viewer(partner):
    return f.MemberFactory(partner=partner, member_name="viewer", roles=["read_only"])


@pytest.fixture
def supervisor(partner):
    return f.MemberFactory(partner=partner, member_name="supervisor", roles=["customer_manager_supervisor"])


@pytest.fixture
def manager(partner, supervisor):
    return f.MemberFactory(partner=partner, member_name="manager", roles=["customer_manager"], supervisor=supervisor)


@pytest.fixture
def other_partner(db):
    return f.PartnerFactory(account_name="globex", name="Globex")


@pytest.fixture
def other_member(other_partner):
    return f.MemberFactory(partner=other_partner, member_name="admin", roles=["system_admin"])


@pytest.fixture
def distributor(db):
    return f.DistributorFactory(account_name="dist", name="Dist Co")


@pytest.fixture
def reseller(distributor):
    return f.ResellerFactory(account_name="res", name="Reseller R", distributor=distributor)


@pytest.fixture
def dist_admin(distributor):
    return f.MemberFactory(partner=distributor, member_name="admin")


@pytest.fixture
def customer(partner):
    c = f.CustomerWithUserFactory(account_name="cust-one", name="Customer One")
    f.AssociationFactory(partner=partner, customer=c, type=Association.Type.RESELLER)
    return c


@pytest.fixture
def customer_user(customer):
    return customer.user


@pytest.fixture
def operator(db):
    return f.OperatorFactory(username="operator")


@pytest.fixture
def as_user(client):
    """``as_user(user)`` signs the test client in as ``user`` and returns the client."""

    def sign_in(user):
        client.force_login(user, backend="organization.backends.RolePermissionBackend")
        return client

    return sign_in


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip)

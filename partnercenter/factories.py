"""factory-boy factories, shared by the tests and by ``seed_demo``."""
import functools
import secrets
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from audit.events import ActorKind, Event
from audit.models import OperationRecord
from audit.services import category_of
from customers.models import Association, Customer, Invitation, ProjectRegistration, ReservedInstance
from organization.models import Partner, Role, User

DEFAULT_PASSWORD = "Demo-pass-2026!"


@functools.cache
def default_password_hash() -> str:
    """Hashing is deliberately slow; hash the shared demo/test password once per process."""
    return make_password(DEFAULT_PASSWORD)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ["account_name"]

    account_name = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Faker("company")
    kind = Partner.Kind.SOLUTION_PROVIDER
    balance = Decimal("0.00")


class DistributorFactory(PartnerFactory):
    kind = Partner.Kind.DISTRIBUTOR


class ResellerFactory(PartnerFactory):
    kind = Partner.Kind.RESELLER
    distributor = factory.SubFactory(DistributorFactory)


def builtin_role(key: str) -> Role:
    return Role.objects.get(builtin=key)


class MemberFactory(factory.django.DjangoModelFactory):
    """An organization member. ``roles`` takes built-in role keys or Role objects
    (default: System Administrator)."""

    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    kind = User.Kind.MEMBER
    member_name = factory.Sequence(lambda n: f"member{n}")
    username = factory.LazyAttribute(lambda o: User.member_username(o.partner.account_name, o.member_name))
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda o: f"{o.member_name}@{o.partner.account_name}.example.com".lower())
    password = factory.LazyFunction(default_password_hash)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        wanted = extracted if extracted is not None else ["system_admin"]
        self.roles.set([r if isinstance(r, Role) else builtin_role(r) for r in wanted])


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"operator{n}")
    kind = User.Kind.OPERATOR
    is_staff = True
    is_superuser = True
    email = factory.LazyAttribute(lambda o: f"{o.username}@vendor.example.com")
    password = factory.LazyFunction(default_password_hash)


class CustomerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"customer{n}")
    kind = User.Kind.CUSTOMER
    email = factory.LazyAttribute(lambda o: f"{o.username}@customer.example.com")
    password = factory.LazyFunction(default_password_hash)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ["account_name"]

    account_name = factory.Sequence(lambda n: f"cust{n:06d}")
    name = factory.Faker("company")
    email = factory.LazyAttribute(lambda o: f"{o.account_name}@customer.example.com")
    registered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=400))
    has_consumption = True


class CustomerWithUserFactory(CustomerFactory):
    user = factory.SubFactory(
        CustomerUserFactory,
        username=factory.SelfAttribute("..account_name"),
        email=factory.SelfAttribute("..email"),
    )


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    partner = factory.SubFactory(PartnerFactory)
    customer = factory.SubFactory(CustomerFactory)
    type = Association.Type.REFERRAL
    origin = Association.Origin.INVITATION
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=200))


class ReservedInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReservedInstance

    customer = factory.SubFactory(CustomerFactory)
    resource = factory.Sequence(lambda n: f"ecs.c7.large #{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))


class InvitationFactory(factory.django.DjangoModelFactory):
    """An invitation as ``invitation_send`` leaves it, without the e-mail."""

    class Meta:
        model = Invitation

    partner = factory.SubFactory(PartnerFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    type = Association.Type.REFERRAL
    language = "en"
    nonce = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(days=7))


class ProjectRegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectRegistration

    partner = factory.SubFactory(PartnerFactory)
    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Migration project {n}")
    expected_amount = Decimal("50000.00")
    expected_close = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))


class OperationRecordFactory(factory.django.DjangoModelFactory):
    """A record as ``audit.services.record`` writes it, for lists that need many rows without
    running the actions behind them."""

    class Meta:
        model = OperationRecord

    partner = factory.SubFactory(PartnerFactory)
    event = Event.ASSOCIATION_CREATED
    category = factory.LazyAttribute(lambda o: category_of(o.event))
    actor_kind = ActorKind.MEMBER
    actor_name = factory.Faker("name")


class AssociationRequestFactory(factory.django.DjangoModelFactory):
    """A request as the request services leave it on submission (a switch names the other
    type), without the checks, records and e-mails."""

    class Meta:
        model = "customers.AssociationRequest"

    association = factory.SubFactory(AssociationFactory)
    kind = "unbind"
    target_type = factory.LazyAttribute(
        lambda o: {"referral": "reseller", "reseller": "referral"}[o.association.type] if o.kind == "switch" else ""
    )
    reason = "Test request"
    requested_by = None
    created_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=7))

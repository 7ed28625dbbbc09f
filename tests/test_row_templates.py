"""The list rows are Jinja2 templates (``templates/jinja2/``, rendered by ``{% rows %}``): they
escape as Django templates do, and the customer row writes the menu and status markup of the
macros the customer page uses."""
import pytest
from django.template import engines
from django.test import RequestFactory

from customers.models import Association
from customers.rows import customer_rows_context
from customers.selectors import annotate_pending_request, customer_list_listing, customer_list_rows, listed_association
from partnercenter import factories as f


def test_jinja_templates_escape_as_django_templates_do():
    typed = "<b onclick=\"x('y')\">Bob</b> & Co"
    jinja = engines["jinja2"].from_string("{{ value }}|{{ _('Details') }}|{{ safe }}")
    django = engines["django"].from_string("{{ value }}|{% load i18n %}{% translate 'Details' %}|{{ safe }}")
    context = {"value": typed, "safe": engines["django"].from_string("<i>x</i>").render({})}
    assert jinja.render(context) == django.render(context)
    assert "&lt;b onclick=&quot;x(&#x27;y&#x27;)&quot;&gt;Bob&lt;/b&gt; &amp; Co" in jinja.render(context)


def _row_context(member):
    request = RequestFactory().get("/")
    request.user = member
    return customer_rows_context(request, tab="mine")


def test_the_customer_row_writes_the_menu_and_status_of_the_customer_page(partner, admin_member):
    customer = f.CustomerWithUserFactory(name="O'Brien <x>", frozen=True, arrears=5)
    association = f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    context = _row_context(admin_member)
    jinja = engines["jinja2"]
    menu = jinja.get_template("customers/operation_menu.jinja").render(
        {**context, "customer": customer, "association": association}
    )
    status = jinja.get_template("customers/account_status.jinja").render({**context, "customer": customer})
    rows, _ordering = customer_list_rows(admin_member, tab="mine", filters={})
    listed = [listed_association(v) for v in customer_list_listing(annotate_pending_request(rows), tab="mine")]
    html = jinja.get_template("customers/customer_rows.jinja").render({**context, "rows": listed, "tz": None})
    assert "Allocate funds" in menu and "Frozen" in status and "In arrears" in status
    assert f"<td>{menu.strip()}</td>" in html
    assert f"<td>{status.strip()}</td>" in html
    assert "O&#x27;Brien &lt;x&gt;" in html


TYPED = "<b>O'Brien</b> & \"Co\""
ESCAPED = "&lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; &quot;Co&quot;"


def _lists_with_typed_text(partner, admin_member):
    """Every list whose rows are a Jinja2 template, each showing text a person typed."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from api import services as api
    from customers.funds import services as funds
    from organization.models import Role

    customer = f.CustomerWithUserFactory(name=TYPED)
    association = f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    f.InvitationFactory(partner=partner, name=TYPED, created_by=admin_member)
    f.AssociationRequestFactory(association=association, kind="dissociation", reason=TYPED)
    f.ProjectRegistrationFactory(partner=partner, customer=customer, name=TYPED)
    Role.objects.create(partner=partner, name=TYPED)
    f.MemberFactory(partner=partner, member_name="typed", display_name=TYPED)
    api.api_key_create(actor=admin_member, name=TYPED)
    type(partner).objects.filter(pk=partner.pk).update(voucher_quota=Decimal("100"))
    funds.voucher_issue(
        actor=admin_member, association=association, amount=Decimal("10"),
        expires_at=timezone.now() + timedelta(days=3),
    )
    return customer


@pytest.mark.parametrize(
    "url",
    ["/customers/invitations/", "/customers/leads/projects/", "/organization/", "/organization/roles/",
     "/customers/vouchers/", "/api-keys/", "/customers/requests/", "customer"],
)
def test_every_row_template_escapes_typed_text_as_django_does(partner, admin_member, as_user, url):
    customer = _lists_with_typed_text(partner, admin_member)
    response = as_user(admin_member).get(f"/customers/{customer.pk}/" if url == "customer" else url)
    html = response.content.decode()
    assert response.status_code == 200
    assert ESCAPED in html
    assert "<b>O'Brien" not in html


def test_the_account_center_voucher_rows_escape_the_partner_name(partner, admin_member, as_user):
    customer = _lists_with_typed_text(partner, admin_member)
    type(partner).objects.filter(pk=partner.pk).update(name=TYPED)
    html = as_user(customer.user).get("/account-center/").content.decode()
    assert f"<td>{ESCAPED}</td>" in html


def test_the_batch_result_rows_escape_the_customer_name(partner, admin_member, as_user):
    from decimal import Decimal

    from customers.controls import batches

    customer = _lists_with_typed_text(partner, admin_member)
    batch = batches.batch_create(actor=admin_member, action="budget", customer_ids=[customer.pk],
                                 amount=Decimal("100.00"), reason="typed")
    batches.batch_run(batch_id=batch.pk)
    html = as_user(admin_member).get(f"/customers/batches/{batch.pk}/").content.decode()
    assert f"<td>{ESCAPED} <span" in html
    assert "<td>Changed</td>" in html
    assert "<b>O'Brien" not in html

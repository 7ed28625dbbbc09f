"""Association requests: switch, unbind and dissociation behind the account check (SPEC §3.2–§3.4,
R4–R10, R14–R16) — the services, the partner pages and the Account Center pages."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.events import Event
from audit.models import OperationRecord
from customers.checks import add_months
from customers.funds import services as funds
from customers.models import Association, AssociationRequest, Customer, LedgerEntry, Voucher
from customers.requests import services as services
from organization.models import Role
from partnercenter import factories as f

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status


@pytest.fixture
def association(customer):
    """The ``customer`` persona's active reseller association with ``partner``."""
    return Association.objects.select_related("partner", "customer").get(customer=customer, status="active")


@pytest.fixture
def referral(partner):
    customer = f.CustomerWithUserFactory(account_name="cust-ref", name="Referral Customer")
    return f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.REFERRAL)


@pytest.fixture
def funded(partner, association, operator):
    """1000.00 on the partner, 300.00 of it allocated to the customer, and two vouchers issued
    from a 200.00 quota: one unused (50.00), one already used (20.00)."""
    funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"))
    funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal("200.00"))
    funds.funds_allocate(actor=None, association=association, amount=Decimal("300.00"))
    expires = timezone.now() + timedelta(days=30)
    funds.voucher_issue(actor=None, association=association, amount=Decimal("50.00"), expires_at=expires)
    used = funds.voucher_issue(actor=None, association=association, amount=Decimal("20.00"), expires_at=expires)
    Voucher.objects.filter(pk=used.pk).update(status=Voucher.Status.USED)
    return association


def events(**filters) -> list[str]:
    return list(OperationRecord.objects.filter(**filters).order_by("id").values_list("event", flat=True))


def submit(association, member, kind=Kind.UNBIND, reason="Customer moves to another reseller"):
    return services.request_submit(actor=member, association=association, kind=kind, reason=reason)


def dissociate(association, reason="We manage our own account now"):
    return services.request_submit_dissociation(
        actor=association.customer.user, association=association, reason=reason
    )


def reload(obj):
    obj.refresh_from_db()
    return obj


# Submitting ----------------------------------------------------------------------------------


class TestSubmit:
    def test_a_partner_switch_becomes_a_pending_request_for_the_customer(
        self, referral, admin_member, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            request = submit(referral, admin_member, Kind.SWITCH, reason="Move to reseller billing")
        assert (request.status, request.kind, request.target_type) == (Status.PENDING, Kind.SWITCH, "reseller")
        assert request.deadline == request.created_at + timedelta(days=7)
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED]
        record = OperationRecord.objects.get(association_request=request)
        assert (record.actor, record.reason, record.customer_id) == (admin_member, "Move to reseller billing",
                                                                     referral.customer_id)
        assert sorted(m.to[0] for m in mail.outbox) == sorted([referral.customer.email, admin_member.email])
        assert "Handle now" in next(m.body for m in mail.outbox if m.to == [referral.customer.email])

    def test_each_side_is_written_to_in_its_own_language(
        self, referral, admin_member, django_capture_on_commit_callbacks
    ):
        referral.customer.user.language = "zh-hans"
        referral.customer.user.save()
        with django_capture_on_commit_callbacks(execute=True):
            submit(referral, admin_member, Kind.SWITCH)
        to_customer = next(m for m in mail.outbox if m.to == [referral.customer.email])
        to_member = next(m for m in mail.outbox if m.to == [admin_member.email])
        assert "立即处理" in to_customer.body and "切换关联类型" in to_customer.subject
        assert "The customer agrees or rejects it" in to_member.body

    def test_the_validity_is_a_setting(self, referral, admin_member, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "REQUEST_VALID_DAYS": 3}
        request = submit(referral, admin_member)
        assert request.deadline == request.created_at + timedelta(days=3)

    def test_a_failing_check_refuses_the_submission_and_changes_nothing(self, association, admin_member):
        Customer.objects.filter(pk=association.customer_id).update(arrears=Decimal("9.99"), frozen=True)
        with pytest.raises(ValidationError) as error:
            submit(association, admin_member)
        assert [e.code for e in error.value.error_list] == ["arrears", "customer.frozen"]
        assert not AssociationRequest.objects.exists()
        assert not OperationRecord.objects.exists()
        assert mail.outbox == []

    def test_a_second_request_is_refused_while_one_is_pending(self, association, admin_member):
        submit(association, admin_member)
        with pytest.raises(ValidationError) as error:
            submit(association, admin_member, Kind.SWITCH)
        assert "request.pending" in [e.code for e in error.value.error_list]
        assert AssociationRequest.objects.count() == 1

    def test_the_pending_limit_is_a_setting_and_a_completed_request_closes_the_others(
        self, settings, association, admin_member
    ):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PENDING_REQUESTS_PER_ASSOCIATION": 2}
        unbind = submit(association, admin_member)
        dissociation = dissociate(association)
        assert AssociationRequest.objects.filter(association=association, status=Status.PENDING).count() == 2
        services.request_approve(actor=admin_member, association_request=dissociation)
        assert reload(association).status == Association.Status.ENDED
        assert reload(unbind).status == Status.CANCELLED
        closed = OperationRecord.objects.get(event=Event.REQUEST_CANCELLED, association_request=unbind)
        assert closed.actor is None and closed.after["closed_by_request"] == dissociation.pk

    def test_a_handled_request_still_counts_for_the_cooldown_until_its_date(
        self, association, admin_member, customer_user
    ):
        first = submit(association, admin_member)
        services.request_reject(actor=customer_user, association_request=first, reason="No")
        with pytest.raises(ValidationError) as error:
            submit(association, admin_member, Kind.SWITCH)
        assert [e.code for e in error.value.error_list] == ["cooldown.partner_request"]
        until = add_months(first.created_at, 3)
        assert until.strftime("%Y-%m-%d") in str(error.value)
        # Three months are at most 92 days; moving the request 93 days back ends its cooldown
        # whatever today's date (month ends clamp: 30 Nov + 3 months is 28 Feb).
        AssociationRequest.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(days=93))
        assert submit(association, admin_member, Kind.SWITCH).status == Status.PENDING

    def test_an_overdue_request_is_settled_first_and_does_not_block_a_new_one(self, association, admin_member):
        overdue = f.AssociationRequestFactory(
            association=association, kind="unbind", created_at=timezone.now() - timedelta(days=200),
            deadline=timezone.now() - timedelta(days=193),
        )
        request = submit(association, admin_member)
        assert reload(overdue).status == Status.EXPIRED
        assert request.status == Status.PENDING

    def test_a_member_of_another_partner_cannot_submit(self, association, other_member):
        with pytest.raises(ValidationError):
            submit(association, other_member)
        assert not AssociationRequest.objects.exists()

    def test_the_reason_is_required(self, association, admin_member):
        with pytest.raises(ValidationError):
            submit(association, admin_member, reason="   ")
        assert not AssociationRequest.objects.exists()


# The customer answers a partner request -------------------------------------------------------


class TestConfirm:
    def test_switching_referral_to_reseller_makes_the_prior_cash_withdraw_only(
        self, referral, admin_member, django_capture_on_commit_callbacks
    ):
        Customer.objects.filter(pk=referral.customer_id).update(cash_balance=Decimal("80.00"))
        request = submit(referral, admin_member, Kind.SWITCH)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.request_confirm(actor=referral.customer.user, association_request=request, reason="OK")
        assert reload(referral).type == Association.Type.RESELLER
        customer = reload(referral.customer)
        assert customer.cash_withdraw_only and customer.cash_balance == Decimal("80.00")
        assert (reload(request).status, request.handled_by, request.response_reason) == (
            Status.CONFIRMED, referral.customer.user, "OK"
        )
        assert events(association=referral) == [
            Event.REQUEST_SUBMITTED, Event.REQUEST_CONFIRMED, Event.ASSOCIATION_SWITCHED
        ]
        switched = OperationRecord.objects.get(event=Event.ASSOCIATION_SWITCHED)
        assert (switched.before["type"], switched.after["type"]) == ("referral", "reseller")
        assert len(mail.outbox) == 2

    def test_switching_reseller_to_referral_returns_the_allocated_balance(
        self, funded, partner, admin_member, customer_user
    ):
        request = submit(funded, admin_member, Kind.SWITCH)
        services.request_confirm(actor=customer_user, association_request=request)
        assert reload(funded).type == Association.Type.REFERRAL
        assert reload(funded.customer).allocated_balance == 0
        assert reload(partner).balance == Decimal("1000.00")
        assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.RETURNED_ON_END).amount == Decimal("300.00")
        assert events(association_request=request) == [
            Event.REQUEST_SUBMITTED, Event.REQUEST_CONFIRMED, Event.ASSOCIATION_SWITCHED
        ]
        assert events(event=Event.FUNDS_RETURNED, customer=funded.customer) == [Event.FUNDS_RETURNED]
        assert Voucher.objects.filter(status=Voucher.Status.UNUSED).count() == 1  # a switch keeps vouchers

    def test_confirming_an_unbind_ends_the_association_with_every_effect(
        self, funded, partner, admin_member, customer_user, django_capture_on_commit_callbacks
    ):
        request = submit(funded, admin_member)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.request_confirm(actor=customer_user, association_request=request)
        association = reload(funded)
        assert (association.status, association.end_reason) == ("ended", Association.EndReason.UNBIND)
        assert association.ended_at is not None
        partner = reload(partner)
        assert partner.balance == Decimal("1000.00")
        assert partner.voucher_quota == Decimal("180.00")  # the 50.00 unused voucher came back
        assert sorted(Voucher.objects.values_list("status", flat=True)) == ["recovered", "used"]
        assert reload(funded.customer).allocated_balance == 0
        assert events(association_request=request) == [
            Event.REQUEST_SUBMITTED, Event.REQUEST_CONFIRMED, Event.ASSOCIATION_ENDED
        ]
        assert set(events(association=association)) >= {Event.VOUCHERS_RECOVERED, Event.FUNDS_RETURNED}
        to_customer = next(m for m in mail.outbox if m.to == [funded.customer.email])
        assert "Top up your account" in to_customer.body

    def test_the_check_runs_again_when_the_customer_agrees(self, association, admin_member, customer_user):
        request = submit(association, admin_member)
        f.ReservedInstanceFactory(customer=association.customer)
        with pytest.raises(ValidationError) as error:
            services.request_confirm(actor=customer_user, association_request=request)
        assert [e.code for e in error.value.error_list] == ["reserved_instances"]
        assert reload(request).status == Status.PENDING
        assert reload(association).is_active
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED]

    def test_the_customer_rejects_and_nothing_else_changes(self, association, admin_member, customer_user):
        request = submit(association, admin_member, Kind.SWITCH)
        services.request_reject(actor=customer_user, association_request=request, reason="We stay as we are")
        assert (reload(request).status, request.response_reason) == (Status.REJECTED, "We stay as we are")
        assert reload(association).type == Association.Type.RESELLER
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED, Event.REQUEST_REJECTED]

    def test_a_rejection_needs_a_reason(self, association, admin_member, customer_user):
        request = submit(association, admin_member)
        with pytest.raises(ValidationError):
            services.request_reject(actor=customer_user, association_request=request, reason="")
        assert reload(request).status == Status.PENDING

    def test_a_handled_request_cannot_be_answered_again(self, association, admin_member, customer_user):
        request = submit(association, admin_member)
        services.request_reject(actor=customer_user, association_request=request, reason="No")
        with pytest.raises(ValidationError) as error:
            services.request_confirm(actor=customer_user, association_request=request)
        assert error.value.code == "stale"
        assert reload(association).is_active
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED, Event.REQUEST_REJECTED]

    def test_only_the_customer_of_the_association_answers(self, association, admin_member, referral):
        request = submit(association, admin_member)
        for actor in (admin_member, referral.customer.user):
            with pytest.raises(ValidationError):
                services.request_confirm(actor=actor, association_request=request)
        assert reload(request).status == Status.PENDING

    def test_a_partner_cannot_confirm_its_own_request_nor_approve_it(self, association, admin_member):
        request = submit(association, admin_member)
        with pytest.raises(ValidationError):
            services.request_approve(actor=admin_member, association_request=request)
        assert reload(request).status == Status.PENDING


class TestCancel:
    def test_the_partner_cancels_its_pending_request(self, association, admin_member):
        request = submit(association, admin_member)
        services.request_cancel(actor=admin_member, association_request=request)
        assert reload(request).status == Status.CANCELLED
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED, Event.REQUEST_CANCELLED]

    def test_the_customer_cannot_cancel_the_partners_request(self, association, admin_member, customer_user):
        request = submit(association, admin_member)
        with pytest.raises(ValidationError):
            services.request_cancel(actor=customer_user, association_request=request)
        assert reload(request).status == Status.PENDING

    def test_the_customer_cancels_its_dissociation_and_the_partner_cannot(self, association, admin_member):
        request = dissociate(association)
        with pytest.raises(ValidationError):
            services.request_cancel(actor=admin_member, association_request=request)
        services.request_cancel(actor=association.customer.user, association_request=request)
        assert reload(request).status == Status.CANCELLED


# Dissociation ----------------------------------------------------------------------------------


class TestDissociation:
    def test_the_customer_asks_and_the_partner_administrators_are_told(
        self, association, admin_member, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            request = dissociate(association)
        assert (request.kind, request.status, request.requested_by) == (
            Kind.DISSOCIATION, Status.PENDING, association.customer.user
        )
        assert sorted(m.to[0] for m in mail.outbox) == sorted([association.customer.email, admin_member.email])

    def test_the_partner_approves_and_the_association_ends(self, funded, partner, admin_member):
        request = dissociate(funded)
        services.request_approve(actor=admin_member, association_request=request)
        association = reload(funded)
        assert (association.status, association.end_reason) == ("ended", Association.EndReason.DISSOCIATION)
        assert reload(partner).voucher_quota == Decimal("180.00")
        assert reload(partner).balance == Decimal("1000.00")
        assert events(association_request=request) == [
            Event.REQUEST_SUBMITTED, Event.REQUEST_APPROVED, Event.ASSOCIATION_ENDED
        ]

    def test_a_frozen_partner_cannot_approve_for_a_reseller_customer(self, association, partner, admin_member):
        request = dissociate(association)
        partner.frozen = True
        partner.save()
        with pytest.raises(ValidationError) as error:
            services.request_approve(actor=admin_member, association_request=request)
        assert [e.code for e in error.value.error_list] == ["partner.frozen"]
        assert reload(association).is_active and reload(request).status == Status.PENDING

    def test_a_frozen_partner_still_approves_for_a_referral_customer(self, referral, partner, admin_member):
        request = dissociate(referral)
        partner.frozen = True
        partner.save()
        services.request_approve(actor=admin_member, association_request=request)
        assert reload(referral).status == "ended"

    def test_a_rejected_dissociation_starts_both_cooldowns(self, association, admin_member, customer_user):
        request = dissociate(association)
        services.request_reject(actor=admin_member, association_request=request, reason="Contract runs to June")
        with pytest.raises(ValidationError) as error:
            dissociate(association)
        assert [e.code for e in error.value.error_list] == ["cooldown.customer_request"]
        with pytest.raises(ValidationError) as error:
            submit(association, admin_member)
        assert [e.code for e in error.value.error_list] == ["cooldown.after_dissociation"]


# Deadlines ------------------------------------------------------------------------------------


class TestDeadlines:
    def later(self, days=8):
        return timezone.now() + timedelta(days=days)

    def test_a_partner_request_expires_after_its_deadline(
        self, association, admin_member, django_capture_on_commit_callbacks
    ):
        request = submit(association, admin_member)
        assert services.request_expire_due(now=self.later(6)) == []
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            settled = services.request_expire_due(now=self.later())
        assert settled == [request] and reload(request).status == Status.EXPIRED
        expired = OperationRecord.objects.get(event=Event.REQUEST_EXPIRED)
        assert (expired.actor, expired.actor_kind) == (None, "system")
        assert reload(association).is_active
        assert len(mail.outbox) == 2

    def test_a_dissociation_is_approved_automatically_when_the_check_passes(self, funded, partner):
        request = dissociate(funded)
        services.request_expire_due(now=self.later())
        assert reload(request).status == Status.AUTO_APPROVED
        association = reload(funded)
        assert (association.status, association.end_reason) == ("ended", Association.EndReason.DISSOCIATION_AUTO)
        assert reload(partner).voucher_quota == Decimal("180.00")
        assert events(association_request=request) == [
            Event.REQUEST_SUBMITTED, Event.REQUEST_AUTO_APPROVED, Event.ASSOCIATION_ENDED
        ]

    def test_an_automatic_approval_fails_with_its_reasons_when_the_check_fails(self, association):
        request = dissociate(association)
        Customer.objects.filter(pk=association.customer_id).update(arrears=Decimal("3.00"))
        services.request_expire_due(now=self.later())
        assert (reload(request).status, request.failure_codes) == (Status.FAILED, ["arrears"])
        assert reload(association).is_active
        failed = OperationRecord.objects.get(event=Event.REQUEST_FAILED)
        assert failed.after["failed_checks"] == ["arrears"]

    def test_settling_twice_has_one_effect(self, association, admin_member):
        submit(association, admin_member)
        assert len(services.request_expire_due(now=self.later())) == 1
        assert services.request_expire_due(now=self.later()) == []
        assert events(event=Event.REQUEST_EXPIRED) == [Event.REQUEST_EXPIRED]

    def test_answering_after_the_deadline_is_refused(self, association, admin_member, customer_user):
        request = submit(association, admin_member)
        AssociationRequest.objects.filter(pk=request.pk).update(deadline=timezone.now() - timedelta(seconds=1))
        with pytest.raises(ValidationError) as error:
            services.request_confirm(actor=customer_user, association_request=request)
        assert "Expired" in str(error.value)
        assert reload(request).status == Status.EXPIRED and reload(association).is_active

    def test_a_request_past_its_deadline_is_closed_to_answers_before_the_job_runs(self, association, admin_member):
        request = f.AssociationRequestFactory(
            association=association, kind="unbind", deadline=timezone.now() - timedelta(seconds=1)
        )
        with pytest.raises(ValidationError) as error:
            services.ensure_open(request)
        assert "passed its deadline" in str(error.value)
        assert reload(request).status == Status.PENDING

    def test_the_command_settles_what_is_due(self, association, referral, admin_member):
        for a in (association, referral):
            submit(a, admin_member)
        dissociation = f.AssociationRequestFactory(
            association=f.AssociationFactory(partner=association.partner, type="referral"), kind="dissociation",
            deadline=timezone.now() - timedelta(minutes=1),
        )
        AssociationRequest.objects.exclude(pk=dissociation.pk).update(deadline=timezone.now() - timedelta(minutes=1))
        out = []
        call_command("expire_requests", stdout=type("Out", (), {"write": lambda self, s: out.append(s)})())
        assert "Settled 3 request(s): auto_approved 1, expired 2." in "".join(out)
        assert not AssociationRequest.objects.filter(status=Status.PENDING).exists()


# Pages: the partner side ------------------------------------------------------------------------


def url(name, *args):
    return reverse(name, args=args)


class TestPartnerPages:
    def test_the_operation_menu_offers_switch_and_unbind_only_with_their_permissions(
        self, as_user, admin_member, viewer, customer
    ):
        body = as_user(admin_member).get(url("customers:list")).content.decode()
        assert url("customers:switch_check", customer.pk) in body
        assert url("customers:unbind_check", customer.pk) in body
        body = as_user(viewer).get(url("customers:list")).content.decode()
        assert url("customers:switch_check", customer.pk) not in body

    def test_the_requests_inbox_is_in_the_menu_only_with_its_permission(self, as_user, admin_member, viewer):
        inbox = url("customers:request_inbox")
        assert inbox in as_user(admin_member).get(url("customers:list")).content.decode()
        assert inbox not in as_user(viewer).get(url("customers:list")).content.decode()

    def test_the_check_page_lists_every_check_with_its_result(self, as_user, admin_member, association):
        Customer.objects.filter(pk=association.customer_id).update(arrears=Decimal("1.00"))
        response = as_user(admin_member).get(url("customers:unbind_check", association.customer_id))
        body = response.content.decode()
        assert response.status_code == 200
        assert body.count('data-check="') == len(response.context["results"]) > 5
        assert "The customer owes money." in body and "Check again" in body
        assert url("customers:unbind_notes", association.customer_id) not in body

    def test_the_notes_page_sends_back_to_the_check_while_a_check_fails(self, as_user, admin_member, association):
        Customer.objects.filter(pk=association.customer_id).update(frozen=True)
        response = as_user(admin_member).get(url("customers:switch_notes", association.customer_id))
        assert response.status_code == 302
        assert response["Location"] == url("customers:switch_check", association.customer_id)

    def test_the_notes_list_this_customers_effects(self, as_user, admin_member, funded):
        body = as_user(admin_member).get(url("customers:unbind_notes", funded.customer_id)).content.decode()
        assert "300.00" in body and "50.00" in body
        assert "I have understood the notes above and agree to this operation" in body

    def test_submitting_with_consent_and_reason_creates_the_request(self, as_user, admin_member, association):
        response = as_user(admin_member).post(
            url("customers:unbind_submit", association.customer_id), {"consent": "on", "reason": "Moving on"},
            follow=True,
        )
        request = AssociationRequest.objects.get()
        assert response.redirect_chain[-1][0] == url("customers:request_detail", request.pk)
        assert "Request submitted" in response.content.decode()
        assert (request.kind, request.requested_by, request.reason) == (Kind.UNBIND, admin_member, "Moving on")

    @pytest.mark.parametrize(
        "data", [{"reason": "Moving on"}, {"consent": "on"}, {"consent": "on", "reason": "x" * 501}]
    )
    def test_missing_consent_or_reason_is_a_form_error(self, as_user, admin_member, association, data):
        response = as_user(admin_member).post(url("customers:switch_submit", association.customer_id), data)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not AssociationRequest.objects.exists()

    def test_a_refused_check_at_submission_is_a_form_error(self, as_user, admin_member, association):
        Customer.objects.filter(pk=association.customer_id).update(special_contract=True)
        response = as_user(admin_member).post(
            url("customers:switch_submit", association.customer_id), {"consent": "on", "reason": "x"}
        )
        assert response.status_code == 200
        assert "An effective special contract exists." in response.content.decode()
        assert not AssociationRequest.objects.exists() and not OperationRecord.objects.exists()

    @pytest.mark.parametrize("name", ["switch_submit", "unbind_submit"])
    def test_get_on_a_submit_url_is_405(self, as_user, admin_member, association, name):
        assert as_user(admin_member).get(url(f"customers:{name}", association.customer_id)).status_code == 405

    @pytest.mark.parametrize("name", ["request_cancel", "request_approve", "request_reject"])
    def test_get_on_a_request_action_url_is_405(self, as_user, admin_member, association, name):
        request = dissociate(association)
        assert as_user(admin_member).get(url(f"customers:{name}", request.pk)).status_code == 405
        assert reload(request).status == Status.PENDING

    @pytest.mark.parametrize("name", ["switch_check", "switch_notes", "unbind_check", "unbind_notes"])
    def test_another_partners_customer_is_404(self, as_user, other_member, association, name):
        assert as_user(other_member).get(url(f"customers:{name}", association.customer_id)).status_code == 404

    def test_another_partners_submit_is_404_and_changes_nothing(self, as_user, other_member, association):
        response = as_user(other_member).post(
            url("customers:unbind_submit", association.customer_id), {"consent": "on", "reason": "x"}
        )
        assert response.status_code == 404
        assert not AssociationRequest.objects.exists()

    def test_another_partners_request_is_404_and_changes_nothing(self, as_user, other_member, association):
        request = dissociate(association)
        client = as_user(other_member)
        assert client.get(url("customers:request_detail", request.pk)).status_code == 404
        response = client.post(url("customers:request_approve", request.pk), {"consent": "on"})
        assert response.status_code == 404
        assert reload(request).status == Status.PENDING and reload(association).is_active

    def test_without_the_permission_it_is_403(self, as_user, viewer, association):
        request = dissociate(association)
        client = as_user(viewer)
        assert client.get(url("customers:switch_check", association.customer_id)).status_code == 403
        assert client.get(url("customers:request_inbox")).status_code == 403
        assert client.post(url("customers:request_approve", request.pk), {"consent": "on"}).status_code == 403
        assert client.post(url("customers:request_reject", request.pk), {"reason": "no"}).status_code == 403
        assert reload(request).status == Status.PENDING

    def test_a_member_who_may_not_switch_cannot_cancel_a_switch(self, as_user, partner, admin_member, association):
        request = submit(association, admin_member, Kind.SWITCH)
        role = Role.objects.create(partner=partner, name="Unbind only")
        role.permissions.set(
            Permission.objects.filter(
                content_type__app_label="customers", codename__in=["view_customer", "unbind_association"]
            )
        )
        member = f.MemberFactory(partner=partner, member_name="unbinder", roles=[role])
        assert as_user(member).post(url("customers:request_cancel", request.pk)).status_code == 403
        assert reload(request).status == Status.PENDING

    def test_a_customer_manager_acts_only_on_managed_customers(self, as_user, partner, manager, association):
        client = as_user(manager)
        assert client.get(url("customers:unbind_check", association.customer_id)).status_code == 404
        Customer.objects.filter(pk=association.customer_id).update(manager=manager)
        assert client.get(url("customers:unbind_check", association.customer_id)).status_code == 200

    def test_a_distributor_cannot_act_on_its_resellers_customers(self, as_user, db):
        distributor = f.DistributorFactory(account_name="dist")
        reseller = f.ResellerFactory(account_name="res", distributor=distributor)
        association = f.AssociationFactory(partner=reseller, type="reseller")
        admin = f.MemberFactory(partner=distributor, member_name="admin")
        client = as_user(admin)
        assert client.get(url("customers:switch_check", association.customer_id)).status_code == 404
        data = {"consent": "on", "reason": "x"}
        response = client.post(url("customers:switch_submit", association.customer_id), data)
        assert response.status_code == 404
        assert not AssociationRequest.objects.exists()

    def test_the_partner_cancels_from_the_request_page(self, as_user, admin_member, association):
        request = submit(association, admin_member)
        response = as_user(admin_member).post(url("customers:request_cancel", request.pk), {"reason": ""}, follow=True)
        assert "Request cancelled" in response.content.decode()
        assert reload(request).status == Status.CANCELLED

    def test_a_stale_cancel_says_so_and_changes_nothing(self, as_user, admin_member, customer_user, association):
        request = submit(association, admin_member)
        services.request_reject(actor=customer_user, association_request=request, reason="No")
        response = as_user(admin_member).post(url("customers:request_cancel", request.pk), {"reason": ""})
        assert response.status_code == 200
        assert "already been handled" in response.content.decode()
        assert reload(request).status == Status.REJECTED
        assert events(association_request=request) == [Event.REQUEST_SUBMITTED, Event.REQUEST_REJECTED]

    def test_the_inbox_shows_pending_dissociations_and_the_partner_approves(
        self, as_user, admin_member, association, referral
    ):
        waiting = dissociate(association)
        submit(referral, admin_member)
        client = as_user(admin_member)
        response = client.get(url("customers:request_inbox"))
        assert [r.pk for r in response.context["page"].rows] == [waiting.pk]
        response = client.get(url("customers:request_inbox"), {"kind": "", "status": ""})
        assert len(response.context["page"].rows) == 2
        page = client.get(url("customers:request_detail", waiting.pk)).content.decode()
        assert "Approve" in page and "Check again" in page
        response = client.post(url("customers:request_approve", waiting.pk), {"consent": "on"}, follow=True)
        assert "Dissociation approved" in response.content.decode()
        assert reload(association).status == "ended"

    def test_approval_without_consent_is_a_form_error(self, as_user, admin_member, association):
        request = dissociate(association)
        response = as_user(admin_member).post(url("customers:request_approve", request.pk), {})
        assert response.status_code == 200 and response.context["approve_form"].errors
        assert reload(association).is_active

    def test_the_partner_rejects_a_dissociation_with_a_reason(self, as_user, admin_member, association):
        request = dissociate(association)
        client = as_user(admin_member)
        assert client.post(url("customers:request_reject", request.pk), {"reason": ""}).status_code == 200
        assert reload(request).status == Status.PENDING
        client.post(url("customers:request_reject", request.pk), {"reason": "Contract"})
        assert reload(request).status == Status.REJECTED

    def test_a_bad_inbox_filter_is_a_message_not_an_error(self, as_user, admin_member):
        response = as_user(admin_member).get(url("customers:request_inbox"), {"status": "nonsense"})
        assert response.status_code == 200 and b"not valid" in response.content

    def test_the_customer_row_and_detail_show_the_pending_request_with_its_deadline(
        self, as_user, admin_member, association, referral
    ):
        request = submit(association, admin_member)
        client = as_user(admin_member)
        body = client.get(url("customers:list")).content.decode()
        assert f"Pending request until {request.deadline:%Y-%m-%d}" in body
        assert body.count("Pending request until") == 1
        detail = client.get(url("customers:detail", association.customer_id)).content.decode()
        assert url("customers:request_detail", request.pk) in detail
        assert f"{request.deadline:%Y-%m-%d %H:%M}" in detail

    def test_with_two_pending_requests_allowed_the_row_shows_once_with_the_earliest_deadline(
        self, settings, as_user, admin_member, association
    ):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PENDING_REQUESTS_PER_ASSOCIATION": 2}
        unbind = submit(association, admin_member)
        dissociation = dissociate(association)
        AssociationRequest.objects.filter(pk=dissociation.pk).update(deadline=unbind.deadline + timedelta(days=1))
        rows = as_user(admin_member).get(url("customers:list")).context["page"].rows
        assert [(a.pk, a.pending_request_id) for a in rows] == [(association.pk, unbind.pk)]

    def test_the_list_filters_customers_with_a_pending_request(self, as_user, admin_member, association, referral):
        submit(referral, admin_member, Kind.SWITCH)
        client = as_user(admin_member)
        rows = client.get(url("customers:list"), {"pending": "any"}).context["page"].rows
        assert [a.pk for a in rows] == [referral.pk]
        assert client.get(url("customers:list"), {"pending": "unbind"}).context["page"].rows == []

    def test_the_list_query_count_stays_within_its_budget_with_pending_requests(
        self, as_user, admin_member, partner, django_assert_max_num_queries
    ):
        for _ in range(20):
            f.AssociationRequestFactory(association=f.AssociationFactory(partner=partner))
        client = as_user(admin_member)
        client.get(url("customers:list"))
        with django_assert_max_num_queries(6):
            response = client.get(url("customers:list"))
        assert response.content.decode().count("Pending request until") == 20

    def test_state_changes_need_the_csrf_token(self, admin_member, association):
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_member, backend="organization.backends.RolePermissionBackend")
        data = {"consent": "on", "reason": "x"}
        response = client.post(url("customers:unbind_submit", association.customer_id), data)
        assert response.status_code == 403
        assert not AssociationRequest.objects.exists()


# Pages: the Account Center ----------------------------------------------------------------------


class TestAccountCenter:
    def test_my_partner_shows_handle_now_with_the_deadline(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member, Kind.SWITCH)
        body = as_user(customer_user).get(url("account_center:home")).content.decode()
        assert "Handle now" in body and url("account_center:request_handle", request.pk) in body
        assert f"{request.deadline:%Y-%m-%d %H:%M}" in body

    def test_handle_now_shows_the_notes_and_the_check_from_the_customers_side(
        self, as_user, admin_member, funded, customer_user
    ):
        request = submit(funded, admin_member)
        response = as_user(customer_user).get(url("account_center:request_handle", request.pk))
        body = response.content.decode()
        assert "300.00" in body and "Agree" in body and "Reject" in body
        assert all(r.passed for r in response.context["results"])

    def test_the_customer_agrees_through_the_page(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member, Kind.SWITCH)
        response = as_user(customer_user).post(
            url("account_center:request_agree", request.pk), {"consent": "on"}, follow=True
        )
        assert "You agreed. From now on you pay the vendor directly and invoice yourself." in response.content.decode()
        assert reload(association).type == Association.Type.REFERRAL

    def test_agreeing_without_consent_is_a_form_error(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member)
        response = as_user(customer_user).post(url("account_center:request_agree", request.pk), {})
        assert response.status_code == 200 and response.context["agree_form"].errors
        assert reload(request).status == Status.PENDING

    def test_a_failing_check_is_a_form_error_when_agreeing(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member)
        Customer.objects.filter(pk=association.customer_id).update(orders_awaiting_partner_payment=1)
        response = as_user(customer_user).post(url("account_center:request_agree", request.pk), {"consent": "on"})
        assert "Orders are waiting for your partner to pay." in response.content.decode()
        assert reload(request).status == Status.PENDING and reload(association).is_active

    def test_a_stale_agreement_says_so_and_changes_nothing(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member)
        services.request_cancel(actor=admin_member, association_request=request)
        response = as_user(customer_user).post(url("account_center:request_agree", request.pk), {"consent": "on"})
        assert response.status_code == 200
        assert "already been handled (Cancelled)" in response.content.decode()
        assert reload(association).is_active

    def test_the_customer_rejects_through_the_page(self, as_user, admin_member, association, customer_user):
        request = submit(association, admin_member)
        client = as_user(customer_user)
        assert client.post(url("account_center:request_reject", request.pk), {"reason": ""}).status_code == 200
        client.post(url("account_center:request_reject", request.pk), {"reason": "Not now"})
        assert reload(request).status == Status.REJECTED

    def test_another_customers_request_is_404_and_changes_nothing(self, as_user, admin_member, referral, customer_user):
        request = submit(referral, admin_member)
        client = as_user(customer_user)
        assert client.get(url("account_center:request_handle", request.pk)).status_code == 404
        assert client.post(url("account_center:request_agree", request.pk), {"consent": "on"}).status_code == 404
        assert client.post(url("account_center:request_reject", request.pk), {"reason": "x"}).status_code == 404
        assert reload(request).status == Status.PENDING and reload(referral).is_active

    @pytest.mark.parametrize("name", ["request_agree", "request_reject", "request_cancel"])
    def test_get_on_an_action_url_is_405(self, as_user, admin_member, association, customer_user, name):
        request = submit(association, admin_member)
        assert as_user(customer_user).get(url(f"account_center:{name}", request.pk)).status_code == 405

    def test_get_on_the_dissociation_submit_url_is_405(self, as_user, customer_user, association):
        assert as_user(customer_user).get(url("account_center:dissociate_submit")).status_code == 405

    def test_a_member_gets_no_access_to_the_account_center_pages(self, as_user, admin_member, association):
        request = dissociate(association)
        assert as_user(admin_member).get(url("account_center:request_handle", request.pk)).status_code == 403

    def test_the_customer_dissociates_through_the_pages(self, as_user, association, customer_user):
        client = as_user(customer_user)
        page = client.get(url("account_center:dissociate")).content.decode()
        assert "Check again" in page and "I have understood the notes above" in page
        response = client.post(url("account_center:dissociate_submit"), {"consent": "on", "reason": "Leaving"},
                               follow=True)
        request = AssociationRequest.objects.get()
        assert response.redirect_chain[-1][0] == url("account_center:request_handle", request.pk)
        assert "Dissociation request submitted" in response.content.decode()
        assert request.kind == Kind.DISSOCIATION

    def test_a_dissociation_without_a_reason_is_a_form_error(self, as_user, association, customer_user):
        response = as_user(customer_user).post(url("account_center:dissociate_submit"), {"consent": "on"})
        assert response.status_code == 200 and response.context["form"].errors
        assert not AssociationRequest.objects.exists()

    def test_the_dissociation_page_lists_failing_checks_without_the_form(self, as_user, association, customer_user):
        Customer.objects.filter(pk=association.customer_id).update(special_contract=True)
        response = as_user(customer_user).get(url("account_center:dissociate"))
        assert "Your account has an effective special contract." in response.content.decode()
        assert "Submit the dissociation request" not in response.content.decode()

    def test_the_customer_cancels_its_dissociation_through_the_page(self, as_user, association, customer_user):
        request = dissociate(association)
        as_user(customer_user).post(url("account_center:request_cancel", request.pk), {"reason": ""})
        assert reload(request).status == Status.CANCELLED

    def test_a_customer_without_a_partner_is_told_so(self, as_user, db):
        loner = f.CustomerWithUserFactory(account_name="loner")
        response = as_user(loner.user).get(url("account_center:dissociate"), follow=True)
        assert "not associated with any partner" in response.content.decode()
        response = as_user(loner.user).post(url("account_center:dissociate_submit"), {"consent": "on", "reason": "x"})
        assert response.status_code == 302 and not AssociationRequest.objects.exists()

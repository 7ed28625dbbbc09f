"""Operation records are append-only (SPEC R25): the model, its queryset and the admin refuse
change and removal, and on PostgreSQL the database refuses UPDATE and DELETE whoever asks."""
import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import AppendOnlyError, OperationRecord
from customers.models import Association
from customers.services import association_create
from partnercenter import factories as f


@pytest.fixture
def rec(partner, customer):
    return f.OperationRecordFactory(partner=partner, customer=customer, reason="as it happened", after={"a": 1})


def unchanged(rec) -> bool:
    current = OperationRecord.objects.filter(pk=rec.pk).values("reason", "after", "actor_id").get()
    return current == {"reason": rec.reason, "after": rec.after, "actor_id": rec.actor_id}


class TestTheModelRefuses:
    def test_update_or_create_and_bulk_update(self, rec):
        with pytest.raises(AppendOnlyError):
            OperationRecord.objects.update_or_create(pk=rec.pk, defaults={"reason": "rewritten"})
        rec.reason = "rewritten"
        with pytest.raises(AppendOnlyError):
            OperationRecord.objects.bulk_update([rec], ["reason"])
        rec.refresh_from_db()
        assert rec.reason == "as it happened"

    def test_a_filtered_update_or_delete(self, rec):
        with pytest.raises(AppendOnlyError):
            OperationRecord.objects.filter(customer=rec.customer).update(reason="rewritten")
        with pytest.raises(AppendOnlyError):
            OperationRecord.objects.filter(pk=rec.pk).delete()
        assert unchanged(rec)


class TestTheAdminOffersNeitherChangeNorDelete:
    @pytest.fixture
    def admin_client(self, client, operator):
        client.force_login(operator, backend="organization.backends.RolePermissionBackend")
        return client

    def test_the_change_form_is_read_only_and_refuses_a_post(self, admin_client, rec):
        url = reverse("admin:audit_operationrecord_change", args=[rec.pk])
        page = admin_client.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert admin_client.post(url, {"reason": "rewritten"}).status_code == 403
        assert unchanged(rec)

    def test_delete_is_refused(self, admin_client, rec):
        url = reverse("admin:audit_operationrecord_delete", args=[rec.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
        changelist = admin_client.get(reverse("admin:audit_operationrecord_changelist"))
        assert b"delete_selected" not in changelist.content
        assert unchanged(rec)


def test_a_rolled_back_action_leaves_no_record(operator, partner):
    newcomer = f.CustomerFactory(account_name="newcomer")
    with pytest.raises(RuntimeError), transaction.atomic():
        association_create(actor=operator, partner=partner, customer=newcomer, type="referral", origin="operator")
        assert OperationRecord.objects.filter(customer=newcomer).count() == 1
        raise RuntimeError("a later step of the same action fails")
    assert not OperationRecord.objects.filter(customer=newcomer).exists()
    assert not Association.objects.filter(customer=newcomer).exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_action_keeps_its_record_and_a_failed_one_leaves_none():
    # No built-in roles here: a transactional test starts from a flushed database.
    partner = f.PartnerFactory(account_name="tx-partner")
    operator = f.OperatorFactory(username="tx-operator")
    kept, lost = f.CustomerFactory(account_name="kept"), f.CustomerFactory(account_name="lost")
    with transaction.atomic():
        association_create(actor=operator, partner=partner, customer=kept, type="referral", origin="operator")
    with pytest.raises(RuntimeError), transaction.atomic():
        association_create(actor=operator, partner=partner, customer=lost, type="referral", origin="operator")
        raise RuntimeError("a later step of the same action fails")
    assert list(OperationRecord.objects.filter(customer=kept).values_list("event", flat=True)) == [
        "association.created"
    ]
    assert not OperationRecord.objects.filter(customer=lost).exists()


@pytest.mark.postgres
class TestPostgresRefuses:
    """The trigger, reached by paths that skip the model's own guard."""

    def test_an_orm_update_that_skips_the_append_only_queryset(self, rec):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            OperationRecord._base_manager.filter(pk=rec.pk).update(reason="rewritten")
        assert unchanged(rec)

    def test_an_orm_delete_that_skips_the_append_only_queryset(self, rec):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            OperationRecord._base_manager.filter(pk=rec.pk).delete()
        assert unchanged(rec)

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE audit_operationrecord SET reason = 'rewritten' WHERE id = %s",
            "UPDATE audit_operationrecord SET created_at = created_at - interval '1 day' WHERE id = %s",
            "DELETE FROM audit_operationrecord WHERE id = %s",
        ],
    )
    def test_raw_sql(self, rec, sql):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [rec.pk])
        assert unchanged(rec)
        assert OperationRecord.objects.filter(pk=rec.pk, created_at=rec.created_at).exists()

    def test_clearing_the_actor_together_with_any_other_change(self, rec, operator):
        with_actor = f.OperationRecordFactory(partner=rec.partner, actor=operator, reason="kept")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "UPDATE audit_operationrecord SET actor_id = NULL, reason = 'covered up' WHERE id = %s",
                [with_actor.pk],
            )
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "UPDATE audit_operationrecord SET actor_id = %s WHERE id = %s",
                [f.OperatorFactory(username="someone-else").pk, with_actor.pk],
            )
        assert unchanged(with_actor)

    def test_deleting_a_user_keeps_their_records_and_name(self, partner):
        leaver = f.OperatorFactory(username="leaver", display_name="")
        kept = f.OperationRecordFactory(partner=partner, actor=leaver, actor_kind="operator", actor_name="Lee Leaver")
        leaver.delete()
        kept.refresh_from_db()
        assert (kept.actor_id, kept.actor_name) == (None, "Lee Leaver")


def _dsn() -> str:
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_connection_cannot_change_or_remove_a_committed_record():
    committed = f.OperationRecordFactory(partner=f.PartnerFactory(account_name="tx-outside"), reason="committed")
    errors = []

    def outsider():
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            for sql in ("UPDATE audit_operationrecord SET reason = 'x' WHERE id = %s",
                        "DELETE FROM audit_operationrecord WHERE id = %s"):
                try:
                    conn.execute(sql, [committed.pk])
                except psycopg.Error as exc:
                    errors.append(exc.sqlstate)

    thread = threading.Thread(target=outsider)
    thread.start()
    thread.join(timeout=30)
    assert errors == ["23001", "23001"]  # restrict_violation, from the trigger
    assert OperationRecord.objects.get(pk=committed.pk).reason == "committed"


"""The record detail's before/after table names every value in the reader's language (issue 21,
Build 5): a label for each key any service writes, never the raw key."""
import ast
from pathlib import Path

import pytest
from django.urls import reverse

from audit.fields import FIELD_LABELS, MODEL_FIELD_EVENTS, field_label
from customers.models import Customer
from organization.models import Partner
from partnercenter import factories as f

ROOT = Path(__file__).resolve().parents[1]
APPS = ["customers", "organization", "audit", "api", "partnercenter"]
# The keywords through which a service hands values to ``audit.services.record`` (``extra`` is
# what ``customers.requests._record_step`` adds to its ``after``).
VALUE_KEYWORDS = {"before", "after", "extra"}


def _constant_keys(node) -> set[str]:
    return {
        key.value
        for dict_node in ast.walk(node)
        if isinstance(dict_node, ast.Dict)
        for key in dict_node.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


def _keys_in_function(function) -> set[str]:
    """The keys of the dicts a function passes as record values: dict literals in the call, and
    the dicts (and item assignments) of the names it passes."""
    keys, names = set(), set()
    for call in ast.walk(function):
        if not isinstance(call, ast.Call):
            continue
        for keyword in call.keywords:
            if keyword.arg in VALUE_KEYWORDS:
                keys |= _constant_keys(keyword.value)
                names |= {n.id for n in ast.walk(keyword.value) if isinstance(n, ast.Name)}
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        targets = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                keys |= _constant_keys(node.value)
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id in names
                and isinstance(target.slice, ast.Constant)
            ):
                keys.add(target.slice.value)
    return keys


def recorded_keys() -> dict[str, str]:
    """Every key the services write into a record, with the file that writes it."""
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(function, ast.FunctionDef):
                    for key in _keys_in_function(function):
                        found.setdefault(key, str(path.relative_to(ROOT)))
    return found


def test_the_key_finder_sees_the_keys_of_the_funds_and_request_records():
    keys = recorded_keys()
    assert {"partner_balance", "ledger_entry", "voucher_quota", "failed_checks", "supervises"} <= set(keys)


def test_every_key_a_service_writes_has_a_label():
    unlabelled = {key: path for key, path in recorded_keys().items() if key not in FIELD_LABELS}
    assert not unlabelled, f"add these keys to audit/fields.py FIELD_LABELS: {unlabelled}"


@pytest.mark.parametrize("event, model", [("customer.updated", Customer), ("partner.updated", Partner)])
def test_the_fields_an_operator_edits_are_labelled_by_their_model(event, model):
    assert MODEL_FIELD_EVENTS[event] == model._meta.label
    for field in model._meta.concrete_fields:
        assert field_label(field.name, event=event) != field.name


@pytest.mark.parametrize(
    "language, labels",
    [("en", ["Partner balance", "Ledger entry", "Amount"]), ("zh-hans", ["合作伙伴余额", "流水记录", "金额"])],
)
def test_the_detail_labels_values_in_the_readers_language(as_user, admin_member, partner, customer, language, labels):
    rec = f.OperationRecordFactory(
        partner=partner, customer=customer, event="funds.allocated",
        before={"partner_balance": "100.00"}, after={"partner_balance": "90.00", "amount": "10.00", "ledger_entry": 7},
    )
    body = as_user(admin_member).get(reverse("audit:detail", args=[rec.pk]), HTTP_ACCEPT_LANGUAGE=language)
    text = body.content.decode()
    for label in labels:
        assert f">{label}<" in text
    assert ">partner_balance<" not in text and "<code>ledger_entry</code>" not in text

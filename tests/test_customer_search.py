"""The customer list's search for every term a person types (issue 17): three characters or
more anywhere, two Chinese characters anywhere in the name, anything shorter at the start of
the name, of a word of the name or of the account name, with a notice saying so; and the
indexes that serve each kind of term and the rare account facts on PostgreSQL."""
import pytest
from django.urls import reverse

from customers.models import Customer
from customers.selectors import customer_fact, customer_list_rows, customer_search
from partnercenter import factories as f
from tests.plans import explain

LIST = reverse("customers:list")
NOTICE = b"is shorter than 3 characters"


@pytest.fixture
def named(partner):
    names = {
        "Qzone Media Inc.": "media-1",
        "Hangzhou Qzar Technology": "tech-2",
        "Plain Holdings": "qz-77",
        "Aqzb Ltd": "aqzb-4",
        "深圳华为科技有限公司": "cn-5",
        "华南物流有限公司": "cn-6",
        "王伟": "cn-7",
    }
    for name, account in names.items():
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(name=name, account_name=account))
    return names


def shown(client, term) -> tuple[set[str], bool]:
    body = client.get(LIST, {"q": term}).content.decode()
    return {account for account in ("media-1", "tech-2", "qz-77", "aqzb-4", "cn-5", "cn-6", "cn-7")
            if account in body}, NOTICE in body.encode()


def test_a_two_letter_term_matches_the_start_of_the_name_a_word_or_the_account_name(
    as_user, admin_member, named
):
    client = as_user(admin_member)
    assert shown(client, "qz") == ({"media-1", "tech-2", "qz-77"}, True)
    assert shown(client, "QZ") == ({"media-1", "tech-2", "qz-77"}, True)
    assert shown(client, "q") == ({"media-1", "tech-2", "qz-77"}, True)


def test_a_three_letter_term_matches_anywhere_without_a_notice(as_user, admin_member, named):
    assert shown(as_user(admin_member), "qzb") == ({"aqzb-4"}, False)


def test_two_chinese_characters_match_anywhere_in_the_name(as_user, admin_member, named):
    client = as_user(admin_member)
    assert shown(client, "华为") == ({"cn-5"}, False)
    assert shown(client, "王伟") == ({"cn-7"}, False)
    assert shown(client, "物流") == ({"cn-6"}, False)


def test_one_chinese_character_matches_the_start_of_the_name(as_user, admin_member, named):
    assert shown(as_user(admin_member), "华") == ({"cn-6"}, True)


def test_the_notice_is_translated(as_user, admin_member, named):
    client = as_user(admin_member)
    client.cookies["django_language"] = "zh-hans"
    body = client.get(LIST, {"q": "qz"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "不足 3 个字符" in body


@pytest.mark.postgres
@pytest.mark.parametrize(
    "condition, index",
    [
        (lambda: customer_search("华为", path=""), "customer_name_cjk_pairs"),
        (lambda: customer_search("qz", path=""), "customer_name_upper_trgm"),
        (lambda: customer_search("qz", path=""), "customer_account_name_upper_trgm"),
        (lambda: customer_search("sofia.zhao", path=""), "customer_email_upper_trgm"),
        (lambda: customer_fact("frozen", path=""), "customer_frozen"),
        (lambda: customer_fact("arrears", path=""), "customer_in_arrears"),
    ],
    ids=["chinese pair", "short term, name", "short term, account", "e-mail fragment", "frozen", "arrears"],
)
def test_each_search_and_rare_fact_is_served_by_its_index(named, condition, index):
    assert index in explain(Customer.objects.filter(condition()))


def test_the_list_filters_by_the_rare_facts(as_user, admin_member, partner):
    for account, facts in [("frozen-1", {"frozen": True}), ("owing-2", {"arrears": "12.50"}), ("fine-3", {})]:
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name=account, **facts))
    rows = {
        status: set(customer_list_rows(admin_member, tab="mine", filters={"status": status})[0]
                    .values_list("customer__account_name", flat=True))
        for status in ("frozen", "arrears", "normal")
    }
    assert rows == {"frozen": {"frozen-1"}, "arrears": {"owing-2"}, "normal": {"fine-3"}}


class TestResellersTab:
    @pytest.fixture
    def dist_admin(self, db):
        distributor = f.DistributorFactory(account_name="dist")
        reseller = f.ResellerFactory(account_name="res-qz", name="Qzen Reseller", distributor=distributor)
        for name, account in [("深圳华为科技有限公司", "cn-1"), ("Other Co", "other-2")]:
            f.AssociationFactory(partner=reseller, customer=f.CustomerFactory(name=name, account_name=account))
        return f.MemberFactory(partner=distributor, member_name="admin")

    def test_a_reseller_matches_by_its_name_and_a_customer_by_its_own(self, dist_admin):
        def accounts(term):
            rows, _ordering = customer_list_rows(dist_admin, tab="resellers", filters={"q": term})
            return set(rows.values_list("customer__account_name", flat=True))

        assert accounts("华为") == {"cn-1"}
        assert accounts("qz") == {"cn-1", "other-2"}  # the reseller's name starts with it
        assert accounts("other") == {"other-2"}
        assert accounts("zen reseller") == {"cn-1", "other-2"}

    @pytest.mark.postgres
    def test_its_search_is_served_by_the_customer_indexes(self, dist_admin):
        # Ored with a condition on the reseller, the customer's would be checked row by row
        # over every association; the matching resellers are looked up first instead.
        rows, _ordering = customer_list_rows(dist_admin, tab="resellers", filters={"q": "华为"})
        plan = explain(rows)
        assert "Seq Scan" not in plan, plan

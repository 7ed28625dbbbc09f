"""Each customer list sort orders by what it names: "Newest association first" by the
Associated since date the column shows, not by internal id (issue 15)."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from partnercenter import factories as f

LIST = reverse("customers:list")


def walk(client, params):
    seen, cursor = [], None
    while True:
        page = client.get(LIST, {**params, **({"cursor": cursor} if cursor else {})}).context["page"]
        seen += [a.customer.account_name for a in page.rows]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.fixture
def out_of_id_order(partner):
    """Associations whose start is not in id order, with ties on the start."""
    now = timezone.now()
    starts = [400, 10, 200, 10, 300, 10, 50, 0, 250, 10, 120]  # days ago
    for i, days in enumerate(starts):
        f.AssociationFactory(
            partner=partner, customer=f.CustomerFactory(account_name=f"c{i:02d}"), started_at=now - timedelta(days=days)
        )
    return {f"c{i:02d}": days for i, days in enumerate(starts)}


@pytest.mark.parametrize("sort,newest_first", [("", True), ("newest", True), ("oldest", False)])
def test_association_sorts_follow_the_associated_since_date_across_pages(
    as_user, admin_member, settings, out_of_id_order, sort, newest_first
):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 3}
    seen = walk(as_user(admin_member), {"sort": sort} if sort else {})
    assert sorted(seen) == sorted(out_of_id_order)  # every row once
    ages = [out_of_id_order[name] for name in seen]
    assert ages == sorted(ages, reverse=not newest_first)
    # Ties on the start keep a stable order by id, in the sort's direction.
    tied = [name for name in seen if out_of_id_order[name] == 10]
    assert tied == sorted(tied, reverse=newest_first)


def test_the_export_follows_the_same_sort(as_user, admin_member, out_of_id_order):
    body = b"".join(as_user(admin_member).get(reverse("customers:export"), {"sort": "newest"}).streaming_content)
    names = [line.split(",")[0] for line in body.decode().lstrip("\ufeff").splitlines()[1:]]
    ages = [out_of_id_order[name] for name in names]
    assert ages == sorted(ages)

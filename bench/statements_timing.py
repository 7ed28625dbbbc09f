"""Each hand-written statement against the ORM query it stands for, on the ``seed_demo`` data:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME python bench/statements_timing.py [N]

Prints microseconds per call (best of five runs of N calls, default 2000) for the ORM form and
the statement, and the difference: the figure rule 15 of DEVELOPERS.md asks for (a statement is
kept only where it saves at least 0.5 ms per page)."""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")

import django  # noqa: E402

django.setup()

from django.db.models import F  # noqa: E402

from api.auth import token_by_digest  # noqa: E402
from api.models import ApiToken  # noqa: E402
from api.services import partner_token_create  # noqa: E402
from customers.selectors import customer_list_managers  # noqa: E402
from organization import backends  # noqa: E402
from organization.models import Role, User  # noqa: E402
from organization.selectors import assignable_managers  # noqa: E402


def best(fn, n: int) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return min(runs)


def main(n: int) -> None:
    admin = User.objects.select_related("partner").get(partner__account_name="demo-sp", member_name="admin")

    def orm_roles():
        rows = Role.objects.filter(members=admin.pk).values_list(
            "pk", "builtin", "permissions__content_type__app_label", "permissions__codename"
        )
        return list(rows)

    def statement_roles():
        fresh = User(pk=admin.pk)
        backends.load_roles(fresh)

    def orm_managers():
        return list(assignable_managers(admin.partner_id).values_list("pk", "display_name", "member_name", "username"))

    token, _raw = partner_token_create(member=admin)

    def orm_token():
        return (
            ApiToken.objects.select_related("member__partner")
            .annotate(key_revoked_at=F("api_key__revoked_at"))
            .get(token_hash=token.token_hash)
        )

    cases = [
        ("signed-in user", lambda: User.objects.select_related("partner").filter(pk=admin.pk).first(),
         lambda: backends.signed_in_user(admin.pk)),
        ("roles", orm_roles, statement_roles),
        ("managers", orm_managers, lambda: customer_list_managers(admin)),
        ("api token", orm_token, lambda: token_by_digest(token.token_hash)),
    ]
    try:
        for name, orm, statement in cases:
            a, b = best(orm, n), best(statement, n)
            print(f"{name:16} ORM {a:7.1f} µs   statement {b:7.1f} µs   saved {a - b:7.1f} µs")
    finally:
        token.delete()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

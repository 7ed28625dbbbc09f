"""Render the list pages of the ``seed_demo`` data through the Django test client: write each
page's HTML to a folder (to compare two versions of the templates) and time each page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME python manage.py migrate
    DATABASE_URL=... python manage.py seed_demo
    DATABASE_URL=... python bench/page_timing.py OUT_DIR [ROUNDS]

Prints the median milliseconds per page over ROUNDS renders (default 200), after a warm-up.
The figures include the test client and the middleware, not the network."""
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from customers.models import Customer  # noqa: E402
from organization.models import User  # noqa: E402

MEMBER_PAGES = {
    "customers": "/customers/",
    "customers_resellers": "/customers/?tab=resellers",
    "records": "/records/",
    "requests": "/customers/requests/",
    "invitations": "/customers/invitations/",
    "projects": "/customers/leads/projects/",
    "vouchers": "/customers/vouchers/",
    "members": "/organization/",
    "roles": "/organization/roles/",
    "api_keys": "/api-keys/",
}
CUSTOMER_PAGES = {"account_center_records": "/account-center/records/"}
# The CSRF token and the cursors' signatures change on every response.
VOLATILE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|(csrf_token" content=")[^"]+|(cursor=)[^"&]+')


def main(out: Path, rounds: int) -> None:
    setup_test_environment()
    out.mkdir(parents=True, exist_ok=True)
    member = Client()
    member.force_login(User.objects.get(partner__account_name="demo-sp", member_name="admin"))
    dist = Client()
    dist.force_login(User.objects.get(partner__account_name="demo-dist", member_name="admin"))
    customer = Client()
    customer.force_login(Customer.objects.get(account_name="democustomer").user)
    pages = [(name, member, url) for name, url in MEMBER_PAGES.items()]
    pages[1] = ("customers_resellers", dist, MEMBER_PAGES["customers_resellers"])
    pages.append(("records_resellers", dist, "/records/?tab=resellers"))
    detail = Customer.objects.filter(associations__partner__account_name="demo-sp").order_by("pk").first()
    pages.append(("customer_detail", member, f"/customers/{detail.pk}/"))
    pages += [(name, customer, url) for name, url in CUSTOMER_PAGES.items()]
    for name, client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        (out / f"{name}.html").write_text(VOLATILE.sub(r"\1\2\3", response.content.decode()))
        for _ in range(20):
            client.get(url)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:24} {statistics.median(times):7.2f} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200)

"""``python manage.py expire_requests``: settle the association requests past their deadline
(SPEC R7). Meant for cron, every few minutes; running it twice, or alongside the pages that
settle a request when they read it, has one effect per request."""
from django.core.management.base import BaseCommand

from customers.models import AssociationRequest
from customers.requests.services import request_expire_due


class Command(BaseCommand):
    help = "Expire partner requests and auto-approve customer dissociations whose deadline has passed."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Settle at most this many requests.")

    def handle(self, *args, limit=None, **options):
        settled = request_expire_due(limit=limit)
        counts = {status: 0 for status in AssociationRequest.Status.values}
        for association_request in settled:
            counts[association_request.status] += 1
        summary = ", ".join(f"{status} {count}" for status, count in counts.items() if count)
        self.stdout.write(f"Settled {len(settled)} request(s){': ' + summary if summary else ''}.")

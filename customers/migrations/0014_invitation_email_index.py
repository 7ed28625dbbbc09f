"""The Account Center home lists the open invitations sent to the customer's e-mail by any
partner (``customers.invitations.selectors.open_invitations_for_customer``: ``email__iexact``,
which PostgreSQL writes ``UPPER(email::text)``, status sent, newest first). Without an index
PostgreSQL walked ``invitation_partner_expiry`` once per partner (299 buffers at the bench's
scale); this partial index on the sent ones finds them by the e-mail, already in order
(bench/README §13)."""
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0013_batches"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                django.db.models.functions.text.Upper("email"),
                models.OrderBy(models.F("sent_at"), descending=True),
                condition=models.Q(("status", "sent")),
                name="invitation_open_email",
            ),
        ),
    ]

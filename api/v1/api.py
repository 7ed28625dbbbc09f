"""The NinjaAPI instance of API v1: its renderer (UTF-8 JSON, never cached), parser (valid
Unicode only), error handler (problem details) and the OpenAPI document's common parts: the
problem responses every operation can give and the Idempotency-Key header of every POST."""
from django.urls import reverse
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.renderers import JSONRenderer

from api.v1 import problems
from api.v1.openapi import with_problems
from api.v1.parser import UnicodeJSONParser
from api.v1.schemas import pattern_messages


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


# Mounted inside the "api" URL namespace (api/urls.py), so its own names live under it.
NAMESPACE = "api:api_v1"


class Docs(Swagger):
    def get_openapi_url(self, api, path_params):
        return reverse(f"{NAMESPACE}:openapi-json", kwargs=path_params)


class PartnerCenterAPI(NinjaAPI):
    def get_root_path(self, path_params):
        return reverse(f"{NAMESPACE}:api-root", kwargs=path_params)

    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        # Tokens and customer data must not sit in shared or browser caches.
        response["Cache-Control"] = "no-store"
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return with_problems(document)


DESCRIPTION = """\
## Webhooks

Register an endpoint (`POST /api/v1/webhooks`, or Organization › Webhooks in the portal) and
Partner Center POSTs every event your organization's operation records describe to it, as JSON
`{"id", "type", "timestamp", "data"}` — `data` is the record as `GET /api/v1/records/{id}` shows
it. Each delivery is signed by the [Standard Webhooks](https://www.standardwebhooks.com) scheme
with the endpoint's secret (`whsec_…`, shown once, at creation and at rotation):

- `webhook-id`: the event id; the same on every retry and redelivery — drop repeats by it;
- `webhook-timestamp`: seconds since the epoch of this attempt — refuse one more than five
  minutes off;
- `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed with the base64-decoded part of
  the secret after `whsec_`, of `{webhook-id}.{webhook-timestamp}.{raw body}`.

With the library (`pip install standardwebhooks`):

```python
from standardwebhooks.webhooks import Webhook
event = Webhook(secret).verify(raw_body, headers)  # raises WebhookVerificationError
```

Answer 2xx within 5 s; anything else is retried with exponential backoff for three days, after
which the endpoint is disabled and your administrators get an e-mail. A runnable receiver:
`examples/webhook_receiver.py` in the Partner Center repository.
"""

api = PartnerCenterAPI(
    title="Partner Center API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    renderer=Renderer(),
    parser=UnicodeJSONParser(),
    docs=Docs(settings={"persistAuthorization": True}),
)
problems.install(api, pattern_messages)


def _register_routers() -> None:
    from api.v1 import controls, customers, funds, invitations, me, records, requests, tokens, webhooks

    for module in (tokens, customers, requests, funds, controls, invitations, me, records, webhooks):
        api.add_router("", module.router)


_register_routers()

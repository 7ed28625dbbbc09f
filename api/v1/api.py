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


api = PartnerCenterAPI(
    title="Partner Center API",
    version="1",
    description="",
    urls_namespace="api_v1",
    renderer=Renderer(),
    parser=UnicodeJSONParser(),
    docs=Docs(settings={"persistAuthorization": True}),
)
problems.install(api, pattern_messages)


def _register_routers() -> None:
    from api.v1 import controls, customers, funds, invitations, me, records, requests, tokens

    for module in (tokens, customers, requests, funds, controls, invitations, me, records):
        api.add_router("", module.router)


_register_routers()

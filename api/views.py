"""The JSON API (SPEC R28–R29). Views parse and check input against the published schema,
call one service, and answer JSON; every refusal is an ``ApiError`` with a stable code."""
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from api import docs as docs_for
from api import ratelimit, schema, services
from api.auth import API_PERMISSION, api_token_required, digest
from api.errors import (
    ApiError,
    json_response,
    method_not_allowed,
    permission_denied,
    rate_limit_unavailable,
    registration_limit_exceeded,
)
from api.models import ApiKey, ApiToken
from api.selectors import customer_for_exchange
from api.validation import parse_json, validate_body, validate_object, validate_parameters, validate_query
from customers.models import Association
from customers.selectors import active_associations_for
from organization.models import User
from partnercenter.clientip import client_ip
from partnercenter.pagination import InvalidCursor, list_page


def endpoint(**handlers):
    """One URL with a handler per HTTP method; any other method is a JSON 405 with Allow."""
    allowed = sorted(method.upper() for method in handlers)

    @csrf_exempt
    def view(request, *args, **kwargs):
        handler = handlers.get(request.method.lower())
        if handler is None:
            return method_not_allowed(allowed)
        try:
            return handler(request, *args, **kwargs)
        except ApiError as error:
            return error.response()

    return view


# Serialisation --------------------------------------------------------------------------------
def _partner_json(partner) -> dict:
    return {"id": partner.pk, "account_name": partner.account_name, "name": partner.name}


def _customer_ref_json(customer) -> dict:
    return {"id": customer.pk, "account_name": customer.account_name, "name": customer.name}


def _customer_json(association: Association) -> dict:
    customer = association.customer
    return {
        "id": customer.pk,
        "account_name": customer.account_name,
        "name": customer.name,
        "email": customer.email,
        "association_type": association.type,
        "associated_since": association.started_at,
        "registered_at": customer.registered_at,
    }


def _token_json(token: ApiToken, raw: str) -> dict:
    return {
        "token": raw,
        "token_type": "Bearer",
        "expires_at": token.expires_at,
        "expires_in": max(0, round((token.expires_at - timezone.now()).total_seconds())),
    }


def _conflict(error: ValidationError) -> ApiError:
    return ApiError(409, error.code, error.messages[0])


# Tokens ---------------------------------------------------------------------------------------
def _invalid_credentials() -> ApiError:
    return ApiError(
        401,
        "invalid_credentials",
        _("The partner account name, member user name, password or API key is wrong."),
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def _member_by_key(data: dict) -> tuple[User, ApiKey]:
    key = ApiKey.objects.select_related("created_by__partner").filter(key_hash=digest(data["api_key"])).first()
    if key is None or key.is_revoked or not key.created_by.is_active:
        raise _invalid_credentials()
    return key.created_by, key


def _member_by_password(request, data: dict) -> User:
    username = User.member_username(data["partner_account"], data["member_name"])
    # Through authenticate() with the request, so django-axes counts and locks failures
    # exactly as on the web sign-in page.
    member = authenticate(request, username=username, password=data["password"])
    if member is None and getattr(request, "axes_locked_out", False):
        # AxesMiddleware would replace this answer with its HTML lockout page; the API
        # answers the lockout itself, in JSON.
        request.axes_locked_out = False
        raise ApiError(
            429, "too_many_attempts", _("Too many failed sign-ins. Wait a few minutes before trying again.")
        )
    if member is None or not member.is_member:
        raise _invalid_credentials()
    return member


def _partner_token_create(request):
    body = parse_json(request)
    messages = schema.pattern_messages()
    if isinstance(body, dict) and "api_key" in body:
        member, key = _member_by_key(validate_object(body, schema.api_key_credentials(), messages))
    else:
        member, key = _member_by_password(request, validate_object(body, schema.password_credentials(), messages)), None
    if not member.has_perm(API_PERMISSION):
        raise permission_denied()
    token, raw = services.partner_token_create(member=member, api_key=key)
    return json_response(
        {**_token_json(token, raw), "partner": _partner_json(member.partner), "member_name": member.member_name},
        status=201,
    )


@api_token_required(kinds=(ApiToken.Kind.PARTNER, ApiToken.Kind.CUSTOMER))
def _token_describe(request):
    token = request.api_token
    data = {
        "kind": token.kind,
        "expires_at": token.expires_at,
        "partner": _partner_json(token.partner),
        "member_name": token.member.member_name,
        "via_api_key": token.api_key_id is not None,
    }
    if token.kind == ApiToken.Kind.CUSTOMER:
        data.update(role=token.role, customer=_customer_ref_json(token.customer))
    return json_response(data)


@api_token_required("customers.view_customer")
def _customer_token_create(request):
    data = validate_body(request, schema.customer_token_request())
    partner_token = request.api_token
    customer = customer_for_exchange(partner_token.member, data["customer_id"])
    if customer is None:
        raise ApiError(404, "customer_not_found", _("Your organization has no customer with this id."))
    try:
        token, raw = services.customer_token_create(partner_token=partner_token, customer=customer, role=data["role"])
    except ValidationError as error:
        raise _conflict(error) from None
    return json_response(
        {**_token_json(token, raw), "role": token.role, "customer": _customer_ref_json(customer)}, status=201
    )


# Customers ------------------------------------------------------------------------------------
@api_token_required("customers.view_customer")
def _customer_list(request):
    params = validate_query(request.GET, schema.customer_list_parameters())
    member = request.api_token.member
    qs = active_associations_for(member).select_related("customer")
    if "type" in params:
        qs = qs.filter(type=params["type"])
    try:
        page = list_page(
            request,
            queryset=qs,
            ordering=["-id"],
            scope=f"api.customers:{member.partner_id}",
            filters={"type": params.get("type")},
            cursor=params.get("cursor"),
            page_size=params.get("limit"),
            count=False,
            restart_on_invalid_cursor=False,
        )
    except InvalidCursor:
        raise ApiError(
            404, "invalid_cursor", _("This cursor does not belong to this list. Start again without a cursor.")
        ) from None
    return json_response(
        {
            "results": [_customer_json(association) for association in page.rows],
            "next_cursor": page.next_cursor,
            "previous_cursor": page.prev_cursor,
        }
    )


def _registration_slots(request):
    """The rate-limit slots of one registration (SPEC R29): per credential, per client id
    and per client address."""
    headers = validate_parameters(request.headers, schema.client_id_header(), schema.pattern_messages())
    token = request.api_token
    key = f"key:{token.api_key_id}" if token.api_key_id else f"member:{token.member_id}"
    return ratelimit.registration_slots(key=key, client_id=headers.get("X-Client-Id"), ip=client_ip(request))


@api_token_required("customers.invite_customers")
def _customer_register(request):
    data = validate_body(request, schema.customer_registration(), schema.pattern_messages())
    partner_token = request.api_token
    try:
        with _registration_slots(request):
            association = services.customer_register(
                actor=partner_token.member, partner=partner_token.partner, **data
            )
    except ratelimit.LimitExceeded as refused:
        raise registration_limit_exceeded(refused.retry_after) from None
    except ratelimit.Unavailable:
        raise rate_limit_unavailable() from None
    except ValidationError as error:
        raise _conflict(error) from None
    return json_response(_customer_json(association), status=201)


tokens = endpoint(post=_partner_token_create)
current_token = endpoint(get=_token_describe)
customer_tokens = endpoint(post=_customer_token_create)
customers = endpoint(get=_customer_list, post=_customer_register)


@csrf_exempt
def not_found(request):
    return ApiError(404, "not_found", _("There is no API endpoint at this address. See /api/docs/.")).response()


# Documentation --------------------------------------------------------------------------------
def _schema(request):
    return json_response(schema.openapi())


openapi_schema = endpoint(get=_schema)


@require_GET
def docs(request):
    document = schema.openapi()
    return render(
        request,
        "api/docs.html",
        {"document": document, "operations": docs_for.operations(document), "models": docs_for.models(document)},
    )

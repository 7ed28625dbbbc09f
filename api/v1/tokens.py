"""Tokens (SPEC R28): a partner token for member credentials or an API key, what a token
is, and the exchange of a partner token for a customer token."""


from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import ValidationError as PydanticValidationError

from api import services
from api.auth import API_PERMISSION, digest
from api.errors import ApiError, permission_denied
from api.models import ApiKey, ApiToken
from api.selectors import customer_for_exchange
from api.v1 import auth
from api.v1.openapi import problems_of
from api.v1.parser import UnicodeJSONParser
from api.v1.problems import from_pydantic, validation_failed
from api.v1.schemas import (
    ApiKeyCredentials,
    CustomerTokenIn,
    CustomerTokenOut,
    PartnerTokenOut,
    PasswordCredentials,
    TokenInfo,
    pattern_messages,
)
from organization.models import User

router = Router(tags=["tokens"])


def partner_json(partner) -> dict:
    return {"id": partner.pk, "account_name": partner.account_name, "name": partner.name}


def customer_ref_json(customer) -> dict:
    return {"id": customer.pk, "account_name": customer.account_name, "name": customer.name}


def token_json(token: ApiToken, raw: str) -> dict:
    return {
        "token": raw,
        "token_type": "Bearer",
        "expires_at": token.expires_at,
        "expires_in": max(0, round((token.expires_at - timezone.now()).total_seconds())),
    }


def invalid_credentials() -> ApiError:
    return ApiError(
        401,
        "invalid_credentials",
        _("The partner account name, member user name, password or API key is wrong."),
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def _member_by_key(data: ApiKeyCredentials) -> tuple[User, ApiKey]:
    key = ApiKey.objects.select_related("created_by__partner").filter(key_hash=digest(data.api_key)).first()
    if key is None or key.is_revoked or not key.created_by.is_active:
        raise invalid_credentials()
    return key.created_by, key


def _member_by_password(request, data: PasswordCredentials) -> User:
    username = User.member_username(data.partner_account, data.member_name)
    # Through authenticate() with the request, so django-axes counts and locks failures
    # exactly as on the web sign-in page.
    member = authenticate(request, username=username, password=data.password)
    if member is None and getattr(request, "axes_locked_out", False):
        # AxesMiddleware would replace this answer with its HTML lockout page; the API
        # answers the lockout itself, in JSON.
        request.axes_locked_out = False
        raise ApiError(
            429, "too_many_attempts", _("Too many failed sign-ins. Wait a few minutes before trying again.")
        )
    if member is None or not member.is_member:
        raise invalid_credentials()
    return member


def _credentials(request: HttpRequest) -> PasswordCredentials | ApiKeyCredentials:
    body = UnicodeJSONParser().parse_body(request)
    if not isinstance(body, dict):
        raise validation_failed({"body": [_("Send a JSON object.")]})
    model = ApiKeyCredentials if "api_key" in body else PasswordCredentials
    try:
        return model.model_validate(body)
    except PydanticValidationError as error:
        raise from_pydantic(error.errors(), pattern_messages()) from None


def _credentials_schema() -> dict:
    def flat(model, title):
        schema = model.model_json_schema()
        schema["title"] = title
        return schema

    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            flat(PasswordCredentials, "Member credentials"),
                            flat(ApiKeyCredentials, "API key"),
                        ]
                    },
                    "example": {"partner_account": "demo-sp", "member_name": "admin", "password": "Demo-pass-2026!"},
                }
            },
        },
        **problems_of(s400=["invalid_json"], s401=["invalid_credentials"], s403=["permission_denied"],
                      s429=["too_many_attempts"]),
    }


@router.post(
    "/tokens",
    response={201: PartnerTokenOut},
    operation_id="createPartnerToken",
    summary="Get a partner token",
    description=(
        "Send member credentials (partner account, member name, password) or an API key. The member needs the "
        "permission to use the API. Failed sign-ins count towards the same lockout as the web sign-in."
    ),
    openapi_extra=_credentials_schema(),
)
def create_partner_token(request):
    data = _credentials(request)
    if isinstance(data, ApiKeyCredentials):
        member, key = _member_by_key(data)
    else:
        member, key = _member_by_password(request, data), None
    if not member.has_perm(API_PERMISSION):
        raise permission_denied()
    token, raw = services.partner_token_create(member=member, api_key=key)
    body = {**token_json(token, raw), "partner": partner_json(member.partner), "member_name": member.member_name}
    return Status(201, body)


@router.get(
    "/tokens/current",
    response=TokenInfo,
    auth=auth.any_token(),
    operation_id="getCurrentToken",
    summary="Describe the current token",
    description="Answers for partner and customer tokens alike while they are valid.",
)
def current_token(request):
    token = request.auth
    data = {
        "kind": token.kind,
        "expires_at": token.expires_at,
        "partner": partner_json(token.partner),
        "member_name": token.member.member_name,
        "via_api_key": token.api_key_id is not None,
    }
    if token.kind == ApiToken.Kind.CUSTOMER:
        data.update(role=token.role, customer=customer_ref_json(token.customer))
    return data


@router.post(
    "/customer-tokens",
    response={201: CustomerTokenOut},
    auth=auth.partner("customers.view_customer"),
    operation_id="exchangeCustomerToken",
    summary="Exchange a partner token for a customer token",
    description=(
        "A token acting on one reseller customer: te_admin acts as the customer would in the Account Center, "
        "readonly only reads. Needs the permission to view customers."
    ),
    openapi_extra=problems_of(s404=["customer_not_found"], s409=["customer_is_referral", "association_ended"]),
)
def exchange_customer_token(request, data: CustomerTokenIn):
    partner_token = request.auth
    customer = customer_for_exchange(partner_token.member, data.customer_id)
    if customer is None:
        raise ApiError(404, "customer_not_found", _("Your organization has no customer with this id."))
    token, raw = services.customer_token_create(partner_token=partner_token, customer=customer, role=data.role)
    return Status(201, {**token_json(token, raw), "role": token.role, "customer": customer_ref_json(customer)})




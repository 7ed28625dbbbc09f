"""The OpenAPI 3 document of the API, written by hand and built per request so its prose is in
the caller's language. The request-body and parameter fragments below are also what
``api.validation`` enforces; the tests run schemathesis against the whole document."""
from django.conf import settings
from django.utils.translation import gettext as _

from api.errors import CODES

ACCOUNT_NAME = r"^[a-z0-9][a-z0-9-]{1,62}$"
PARTNER_ACCOUNT = r"^[A-Za-z0-9-]{1,63}$"
MEMBER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
API_KEY = r"^pck_[A-Za-z0-9_-]{43}$"
EMAIL = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}$"
# No control characters anywhere (PostgreSQL refuses NUL) and no leading blank.
NAME = r"^[^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,199}$"
CLIENT_ID = r"^[A-Za-z0-9._:-]{1,128}$"
MAX_ID = 9223372036854775807
ROLES = ["te_admin", "readonly"]
TYPES = ["referral", "reseller"]


def pattern_messages() -> dict[str, str]:
    return {
        "account_name": _("Use 2–63 lower-case letters, digits or dashes, starting with a letter or digit."),
        "partner_account": _("Use the partner account name: letters, digits or dashes."),
        "member_name": _("Use 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
        "api_key": _("This is not an API key: keys start with pck_ and are 47 characters long."),
        "email": _("Enter a valid e-mail address."),
        "name": _("Enter a name without control characters that does not start with a blank."),
        "X-Client-Id": _("Use 1–128 letters, digits, dots, colons, dashes or underscores."),
    }


# Request fragments ---------------------------------------------------------------------------
def password_credentials() -> dict:
    return {
        "type": "object",
        "title": _("Member credentials"),
        "required": ["partner_account", "member_name", "password"],
        "additionalProperties": False,
        "properties": {
            "partner_account": {
                "type": "string", "pattern": PARTNER_ACCOUNT, "maxLength": 63,
                "description": _("Partner account name (not case-sensitive)."),
            },
            "member_name": {
                "type": "string", "pattern": MEMBER_NAME, "maxLength": 64,
                "description": _("Member user name."),
            },
            "password": {"type": "string", "minLength": 1, "maxLength": 1024, "format": "password"},
        },
        "example": {"partner_account": "demo-sp", "member_name": "admin", "password": "Demo-pass-2026!"},
    }


def api_key_credentials() -> dict:
    return {
        "type": "object",
        "title": _("API key"),
        "required": ["api_key"],
        "additionalProperties": False,
        "properties": {
            "api_key": {
                "type": "string", "pattern": API_KEY, "minLength": 47, "maxLength": 47,
                "description": _("An API key created under Partner info › API keys."),
            },
        },
    }


def customer_token_request() -> dict:
    return {
        "type": "object",
        "required": ["customer_id", "role"],
        "additionalProperties": False,
        "properties": {
            "customer_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "role": {
                "type": "string", "enum": ROLES,
                "description": _("te_admin acts with full rights on the customer's account; readonly only reads."),
            },
        },
        "example": {"customer_id": 1, "role": "readonly"},
    }


def customer_registration() -> dict:
    return {
        "type": "object",
        "required": ["account_name", "name", "email"],
        "additionalProperties": False,
        "properties": {
            "account_name": {
                "type": "string", "pattern": ACCOUNT_NAME, "minLength": 2, "maxLength": 63,
                "description": _("The new account's sign-in name; also its user name."),
            },
            "name": {"type": "string", "pattern": NAME, "minLength": 1, "maxLength": 200},
            "email": {"type": "string", "pattern": EMAIL, "maxLength": 254},
        },
        "example": {"account_name": "new-customer", "name": "New Customer Ltd", "email": "it@new-customer.example.com"},
    }


def customer_list_parameters() -> list[dict]:
    return [
        {
            "name": "cursor", "in": "query", "required": False,
            "description": _("next_cursor or previous_cursor of the page before; empty or absent for the first page."),
            "schema": {"type": "string", "maxLength": 512},
        },
        {
            "name": "limit", "in": "query", "required": False,
            "description": _("Customers per page."),
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        {
            "name": "type", "in": "query", "required": False,
            "description": _("Only customers with this association type."),
            "schema": {"type": "string", "enum": TYPES},
        },
    ]


def client_id_header() -> list[dict]:
    return [
        {
            "name": "X-Client-Id", "in": "header", "required": False,
            "description": _("Identifies the client the registration comes from; without it, the caller's IP address."),
            "schema": {"type": "string", "pattern": CLIENT_ID, "maxLength": 128},
        },
    ]


# Responses ------------------------------------------------------------------------------------
def _error(status: int, codes: list[str], description: str) -> dict:
    assert set(codes) <= set(CODES[status]), codes
    response = {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": codes},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _ok(description: str, ref: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _bad_request() -> dict:
    return _error(400, CODES[400], _("The body is not JSON or a field is not valid (see error.fields)."))


def _token_refused() -> dict:
    return _error(
        401,
        ["not_authenticated", "token_invalid", "token_expired", "token_revoked"],
        _("No token, an unknown or expired token, or one whose key, member or association has ended."),
    )


def _forbidden(codes=("permission_denied",)) -> dict:
    return _error(403, list(codes), _("The token's member lacks a permission this needs."))


def _token_schema(extra: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "required": ["token", "token_type", "expires_at", "expires_in", *required],
        "properties": {
            "token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_at": {"type": "string", "format": "date-time"},
            "expires_in": {"type": "integer", "description": _("Seconds the token stays valid.")},
            **extra,
        },
    }


def openapi() -> dict:
    bearer = [{"bearerAuth": []}]
    ttl = settings.PARTNER_CENTER["CUSTOMER_TOKEN_TTL_SECONDS"]
    limit = settings.PARTNER_CENTER["API_REGISTRATIONS_PER_CLIENT"]
    per_ip = settings.PARTNER_CENTER["API_REGISTRATIONS_PER_IP"]
    per_key = settings.PARTNER_CENTER["API_REGISTRATIONS_PER_KEY"]
    period = settings.PARTNER_CENTER["API_REGISTRATION_PERIOD_SECONDS"]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": _("Partner Center API"),
            "version": "1.0.0",
            "description": _(
                "Get a partner token with member credentials or an API key, then send it as "
                "'Authorization: Bearer <token>'. Every error is JSON with a stable error.code; "
                "error.message is in the language of the Accept-Language header. Other HTTP methods "
                "than those listed get 405 with an Allow header."
            ),
        },
        "tags": [
            {"name": "tokens", "description": _("Partner and customer tokens")},
            {"name": "customers", "description": _("The partner's customers")},
        ],
        "paths": {
            "/api/tokens": {
                "post": {
                    "operationId": "createPartnerToken",
                    "tags": ["tokens"],
                    "summary": _("Get a partner token"),
                    "description": _(
                        "With member credentials (partner account name, member user name, password) or "
                        "with an API key. The member needs the API permission. Wrong passwords are "
                        "throttled like the web sign-in."
                    ),
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [password_credentials(), api_key_credentials()]},
                                "example": password_credentials()["example"],
                            }
                        },
                    },
                    "responses": {
                        "201": _ok(_("A partner token."), "#/components/schemas/PartnerToken"),
                        "400": _bad_request(),
                        "401": _error(401, ["invalid_credentials"], _("Wrong credentials, or a revoked key.")),
                        "403": _forbidden(),
                        "429": _error(429, ["too_many_attempts"], _("Too many failed sign-ins: wait and retry.")),
                    },
                }
            },
            "/api/tokens/current": {
                "get": {
                    "operationId": "getCurrentToken",
                    "tags": ["tokens"],
                    "summary": _("Describe the token sent"),
                    "description": _("Answers for partner and customer tokens alike while they are valid."),
                    "security": bearer,
                    "responses": {
                        "200": _ok(_("What the token stands for."), "#/components/schemas/TokenInfo"),
                        "401": _token_refused(),
                        "403": _forbidden(),
                    },
                }
            },
            "/api/customer-tokens": {
                "post": {
                    "operationId": "exchangeCustomerToken",
                    "tags": ["tokens"],
                    "summary": _("Exchange a partner token for a customer token"),
                    "description": _(
                        "For a customer actively associated with the partner in reseller type. The token "
                        "expires after %(ttl)d seconds; each exchange is an operation record. Needs the "
                        "permissions to use the API and to view customers."
                    ) % {"ttl": ttl},
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": customer_token_request()}},
                    },
                    "responses": {
                        "201": _ok(_("A customer token."), "#/components/schemas/CustomerToken"),
                        "400": _bad_request(),
                        "401": _token_refused(),
                        "403": _forbidden(CODES[403]),
                        "404": _error(404, ["customer_not_found"], _("Not a customer of this partner.")),
                        "409": _error(
                            409,
                            ["customer_is_referral", "association_ended"],
                            _("The customer is associated in referral type, or no longer with this partner."),
                        ),
                    },
                }
            },
            "/api/customers": {
                "get": {
                    "operationId": "listCustomers",
                    "tags": ["customers"],
                    "summary": _("List the partner's customers"),
                    "description": _(
                        "Actively associated customers, newest association first, in pages linked by "
                        "cursors. Needs the permissions to use the API and to view customers."
                    ),
                    "security": bearer,
                    "parameters": customer_list_parameters(),
                    "responses": {
                        "200": _ok(_("One page of customers."), "#/components/schemas/CustomerPage"),
                        "400": _error(400, ["validation_failed"], _("A parameter is not valid.")),
                        "401": _token_refused(),
                        "403": _forbidden(CODES[403]),
                        "404": _error(404, ["invalid_cursor"], _("The cursor is not one this list gave out.")),
                    },
                },
                "post": {
                    "operationId": "registerCustomer",
                    "tags": ["customers"],
                    "summary": _("Register a customer"),
                    "description": _(
                        "Creates the customer's account and associates it with the partner in reseller "
                        "type. At most %(limit)d registrations per client id, %(per_ip)d per client address "
                        "and %(per_key)d per API key (or member) per %(period)d seconds, across all servers; "
                        "a refused or failed registration counts for none. Needs the permissions to use the "
                        "API and to invite customers."
                    ) % {"limit": limit, "per_ip": per_ip, "per_key": per_key, "period": period},
                    "security": bearer,
                    "parameters": client_id_header(),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": customer_registration()}},
                    },
                    "responses": {
                        "201": _ok(_("The new customer."), "#/components/schemas/Customer"),
                        "400": _bad_request(),
                        "401": _token_refused(),
                        "403": _forbidden(CODES[403]),
                        "409": _error(
                            409, ["account_name_taken", "email_taken"], _("The account name or e-mail is taken.")
                        ),
                        "429": {
                            **_error(
                                429,
                                ["registration_limit_exceeded"],
                                _("Too many registrations from this client in this period."),
                            ),
                            "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                        },
                        "503": {
                            **_error(
                                503,
                                ["rate_limit_unavailable"],
                                _("The registration limit cannot be counted now (shared cache down): retry later."),
                            ),
                            "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                        },
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _("A partner token from POST /api/tokens, or a customer token where stated."),
                }
            },
            "schemas": {
                "Partner": {
                    "type": "object",
                    "required": ["id", "account_name", "name"],
                    "properties": {
                        "id": {"type": "integer"},
                        "account_name": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "CustomerRef": {
                    "type": "object",
                    "required": ["id", "account_name", "name"],
                    "properties": {
                        "id": {"type": "integer"},
                        "account_name": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "Customer": {
                    "type": "object",
                    "required": [
                        "id", "account_name", "name", "email", "association_type", "associated_since", "registered_at",
                    ],
                    "properties": {
                        "id": {"type": "integer"},
                        "account_name": {"type": "string"},
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "association_type": {"type": "string", "enum": TYPES},
                        "associated_since": {"type": "string", "format": "date-time"},
                        "registered_at": {"type": "string", "format": "date-time"},
                    },
                },
                "CustomerPage": {
                    "type": "object",
                    "required": ["results", "next_cursor", "previous_cursor"],
                    "properties": {
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}},
                        "next_cursor": {"type": "string", "nullable": True},
                        "previous_cursor": {"type": "string", "nullable": True},
                    },
                },
                "PartnerToken": _token_schema(
                    {
                        "partner": {"$ref": "#/components/schemas/Partner"},
                        "member_name": {"type": "string"},
                    },
                    ["partner", "member_name"],
                ),
                "CustomerToken": _token_schema(
                    {
                        "role": {"type": "string", "enum": ROLES},
                        "customer": {"$ref": "#/components/schemas/CustomerRef"},
                    },
                    ["role", "customer"],
                ),
                "TokenInfo": {
                    "type": "object",
                    "description": _("role and customer are present for customer tokens only."),
                    "required": ["kind", "expires_at", "partner", "member_name", "via_api_key"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["partner", "customer"]},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "partner": {"$ref": "#/components/schemas/Partner"},
                        "member_name": {"type": "string"},
                        "via_api_key": {"type": "boolean"},
                        "role": {"type": "string", "enum": ROLES},
                        "customer": {"$ref": "#/components/schemas/CustomerRef"},
                    },
                },
            },
        },
    }

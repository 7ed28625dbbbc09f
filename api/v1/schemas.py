"""Pydantic schemas of API v1: what the OpenAPI document publishes and what every request is
validated against. Input is strict (no "1" for 1, no true for 1), refuses unknown fields, and
every string has a maximum length."""
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

ACCOUNT_NAME = r"^[a-z0-9][a-z0-9-]{1,62}$"
PARTNER_ACCOUNT = r"^[A-Za-z0-9-]{1,63}$"
MEMBER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
API_KEY = r"^pck_[A-Za-z0-9_-]{43}$"
EMAIL = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}$"
# No control characters anywhere (PostgreSQL refuses NUL) and no leading blank.
NAME = r"^[^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,199}$"
# Free text (reasons): no control characters but line breaks and tabs.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
CLIENT_ID = r"^[A-Za-z0-9._:-]{1,128}$"
MAX_ID = 9223372036854775807
MAX_CURSOR = 512


def pattern_messages() -> dict[str, str]:
    """Field name → what its pattern asks for, in the caller's language."""
    return {
        "account_name": _("Use 2–63 lower-case letters, digits or dashes, starting with a letter or digit."),
        "partner_account": _("Use the partner account name: letters, digits or dashes."),
        "member_name": _("Use 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
        "api_key": _("This is not an API key: keys start with pck_ and are 47 characters long."),
        "email": _("Enter a valid e-mail address."),
        "name": _("Enter a name without control characters that does not start with a blank."),
        "x-client-id": _("Use 1–128 letters, digits, dots, colons, dashes or underscores."),
        "reason": _("Enter text without control characters."),
        "q": _("Enter text without control characters."),
    }


def _whole_number(value):
    """JSON Schema's integer: 12 and 12.0, but not "12" nor true."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An id in a request body.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID, strict=False), BeforeValidator(_whole_number)]


class Input(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)


# Tokens -----------------------------------------------------------------------------------
class PasswordCredentials(Input):
    partner_account: str = Field(max_length=63, pattern=PARTNER_ACCOUNT, description="Partner account name.")
    member_name: str = Field(max_length=64, pattern=MEMBER_NAME)
    password: str = Field(min_length=1, max_length=1024, json_schema_extra={"format": "password"})


class ApiKeyCredentials(Input):
    api_key: str = Field(min_length=47, max_length=47, pattern=API_KEY)


class PartnerOut(Schema):
    id: int
    account_name: str
    name: str


class CustomerRef(Schema):
    id: int
    account_name: str
    name: str


class TokenOut(Schema):
    token: str
    token_type: Literal["Bearer"]
    expires_at: datetime
    expires_in: int


class PartnerTokenOut(TokenOut):
    partner: PartnerOut
    member_name: str


class CustomerTokenIn(Input):
    customer_id: BodyId
    role: Literal["te_admin", "readonly"]


class CustomerTokenOut(TokenOut):
    role: Literal["te_admin", "readonly"]
    customer: CustomerRef


class TokenInfo(Schema):
    kind: Literal["partner", "customer"]
    expires_at: datetime
    partner: PartnerOut
    member_name: str
    via_api_key: bool
    role: Literal["te_admin", "readonly"] | None = None
    customer: CustomerRef | None = None


# Customers ----------------------------------------------------------------------------------
class CustomerRegistration(Input):
    account_name: str = Field(min_length=2, max_length=63, pattern=ACCOUNT_NAME)
    name: str = Field(min_length=1, max_length=200, pattern=NAME)
    email: str = Field(max_length=254, pattern=EMAIL)


class CustomerOut(Schema):
    id: int
    account_name: str
    name: str
    email: str
    association_type: Literal["referral", "reseller"]
    associated_since: datetime
    registered_at: datetime


class PendingRequestOut(Schema):
    id: int
    kind: str
    deadline: datetime


class ListedCustomerOut(Schema):
    id: int
    account_name: str
    name: str
    email: str
    association_id: int
    association_type: Literal["referral", "reseller"]
    associated_since: datetime
    frozen: bool
    arrears: Decimal
    manager_id: int | None
    manager_name: str
    partner_name: str = Field(description="The reseller's name, on the resellers tab only.")
    pending_request: PendingRequestOut | None


class Page(Schema):
    next_cursor: str | None
    previous_cursor: str | None


class CustomerPage(Page):
    results: list[ListedCustomerOut]


class CustomerFilters(Schema):
    """The customer list's search, filters and sort, as the portal's filter bar has them."""

    model_config = ConfigDict(extra="forbid")
    tab: Literal["mine", "resellers"] = "mine"
    q: str = Field("", max_length=100, pattern=TEXT)
    type: Literal["referral", "reseller"] | None = None
    status: Literal["normal", "frozen", "arrears"] | None = None
    manager: int | None = Field(None, ge=1, le=MAX_ID)
    pending: Literal["any", "switch", "unbind", "dissociation"] | None = None
    sort: Literal["newest", "oldest", "account"] = "newest"
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)

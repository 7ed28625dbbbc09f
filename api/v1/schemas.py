"""Pydantic schemas of API v1: what the OpenAPI document publishes and what every request is
validated against. Input is strict (no "1" for 1, no true for 1), refuses unknown fields, and
every string has a maximum length."""
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from audit.events import ActorKind, Category, Event
from customers.models import AssociationRequest
from customers.requests.forms import REASON_MAX_LENGTH as REASON_MAX

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
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


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
        "password": _("Enter the password without NUL characters."),
        "q": _("Enter text without control characters."),
        "amount": _("Enter an amount like 12.50: digits, at most two decimal places."),
        "expected_amount": _("Enter an amount like 12.50: digits, at most two decimal places."),
        "description": _("Enter text without control characters."),
        "expected_close": _("Enter a date in ISO 8601 form."),
        "token": _("This is not a link token: use the part of the link after its last slash."),
    }


def _whole_number(value):
    """JSON Schema's integer: 12 and 12.0, but not "12" nor true."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An id in a request body.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID, strict=False), BeforeValidator(_whole_number)]


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_parsing", "Input should be a valid date") from None
    return value


# A day as ISO 8601 text that exists on the calendar (pydantic's date would also take a Unix
# time); the portal's form parses it.
IsoDate = Annotated[
    str, Field(max_length=10, pattern=ISO_DATE, json_schema_extra={"format": "date"}), AfterValidator(_calendar_date)
]


class Input(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """An operation's answer. The operations build plain dicts (the ``*_json`` functions), so
    answers are plain pydantic models: ninja's ``Schema`` wraps every model's validation to
    resolve Django attributes, which made a page of 50 customers cost 2.9 ms to check instead
    of 0.3 ms (bench/README §17). The document is the same."""

    model_config = ConfigDict(from_attributes=True)


# Tokens -----------------------------------------------------------------------------------
class PasswordCredentials(Input):
    partner_account: str = Field(max_length=63, pattern=PARTNER_ACCOUNT, description="Partner account name.")
    member_name: str = Field(max_length=64, pattern=MEMBER_NAME)
    password: str = Field(
        min_length=1, max_length=1024, pattern=r"^[^\x00]+$", json_schema_extra={"format": "password"}
    )


class ApiKeyCredentials(Input):
    api_key: str = Field(min_length=47, max_length=47, pattern=API_KEY)


class PartnerOut(Out):
    id: int
    account_name: str
    name: str


class CustomerRef(Out):
    id: int
    account_name: str
    name: str


class TokenOut(Out):
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


class TokenInfo(Out):
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


class CustomerOut(Out):
    id: int
    account_name: str
    name: str
    email: str
    association_type: Literal["referral", "reseller"]
    associated_since: datetime
    registered_at: datetime


class PendingRequestOut(Out):
    id: int
    kind: str
    deadline: datetime


class ListedCustomerOut(Out):
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


class Page(Out):
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


# Customer detail and the account check ------------------------------------------------------
class AssociationOut(Out):
    id: int
    type: Literal["referral", "reseller"]
    partner: PartnerOut
    own: bool = Field(description="Whether the association is the caller's partner's (else a reseller's).")
    origin: str
    started_at: datetime


class RequestOut(Out):
    id: int
    kind: str
    status: str
    customer: CustomerRef
    target_type: str
    reason: str
    requested_by: str
    created_at: datetime
    deadline: datetime
    handled_at: datetime | None
    response_reason: str
    failure_codes: list[str]


class LedgerEntryOut(Out):
    id: int
    kind: str
    amount: Decimal
    customer_id: int | None
    partner_balance_after: Decimal
    customer_balance_after: Decimal | None
    actor_name: str
    created_at: datetime


class VoucherOut(Out):
    id: int
    customer: CustomerRef
    amount: Decimal
    status: str
    expires_at: datetime
    issued_at: datetime
    recovered_at: datetime | None


class CustomerDetailOut(Out):
    id: int
    account_name: str
    name: str
    email: str
    registered_at: datetime
    frozen: bool
    arrears: Decimal
    postpaid: bool
    invoice_owed: bool
    special_contract: bool
    enterprise_role: str
    financially_hosted: bool
    cash_balance: Decimal
    cash_withdraw_only: bool
    allocated_balance: Decimal
    manager_id: int | None
    association: AssociationOut | None
    pending_request: RequestOut | None
    ledger: list[LedgerEntryOut] = Field(description="This partner's latest ledger rows for the customer.")
    vouchers: list[VoucherOut] = Field(description="This partner's latest vouchers for the customer.")


class CheckOut(Out):
    code: str
    title: str
    passed: bool
    message: str
    advice: str = Field(description="What must be done, and by whom, for the check to pass.")
    who_acts: list[Literal["customer", "partner", "vendor"]] = Field(
        description="Who can make a failed check pass; empty when it passed or clears by itself (a cooldown)."
    )
    clears_at: datetime | None = Field(description="For a failed cooldown: the moment it clears by itself.")


class AccountCheckOut(Out):
    action: Literal["switch", "unbind"]
    passed: bool
    checks: list[CheckOut]
    effects: list[str] = Field(description="What completing the request would do, with this customer's amounts.")
    allocated_balance: Decimal
    cash_balance: Decimal


# Requests --------------------------------------------------------------------------------------
class RequestSubmit(Input):
    kind: Literal["switch", "unbind"]
    consent: Literal[True] = Field(description="The partner read the effects and agrees to them.")
    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=TEXT)


class Reason(Input):
    reason: str = Field("", max_length=REASON_MAX, pattern=TEXT)


class RequiredReason(Input):
    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=TEXT)


class Approval(Input):
    consent: Literal[True]
    reason: str = Field("", max_length=REASON_MAX, pattern=TEXT)


class RequestFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["switch", "unbind", "dissociation"] | None = None
    status: Literal[tuple(AssociationRequest.Status.values)] | None = None
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


class RequestPage(Page):
    results: list[RequestOut]


# Funds and vouchers -------------------------------------------------------------------------
AMOUNT = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
# Money as a decimal string ("12.50"): no binary floating point on the way in.
Amount = Annotated[str, Field(max_length=15, pattern=AMOUNT, description="A decimal string, e.g. \"12.50\".")]


class FundsMove(Input):
    amount: Amount
    reason: str = Field("", max_length=REASON_MAX, pattern=TEXT)


class VoucherIssue(Input):
    amount: Amount
    expires_at: datetime = Field(strict=False)
    reason: str = Field("", max_length=REASON_MAX, pattern=TEXT)


class BalanceOut(Out):
    balance: Decimal
    voucher_quota: Decimal


class VoucherFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=100, pattern=TEXT)
    status: Literal["unused", "used", "recovered", "expired"] | None = None
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


class VoucherPage(Page):
    results: list[VoucherOut]


class LedgerPage(Page):
    results: list[LedgerEntryOut]


class CursorLimit(Schema):
    model_config = ConfigDict(extra="forbid")
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


# Invitations ----------------------------------------------------------------------------------
class InvitationIn(Input):
    email: str = Field(max_length=254, pattern=EMAIL)
    name: str = Field("", max_length=200, pattern=r"^([^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,199})?$")
    type: Literal["referral", "reseller"]
    language: Literal["en", "zh-hans"] | None = Field(None, description="Of the e-mail; the caller's by default.")


class InvitationResendIn(Input):
    email: str = Field(max_length=254, pattern=EMAIL)
    name: str = Field("", max_length=200, pattern=r"^([^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,199})?$")
    language: Literal["en", "zh-hans"] | None = None


class InvitationOut(Out):
    id: int
    email: str
    name: str
    type: str
    status: str = Field(description="A sent invitation past its expiry is expired.")
    sent_at: datetime
    expires_at: datetime
    link: str | None = Field(description="The link the e-mail carries, while the invitation is open.")


class InvitationFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=100, pattern=TEXT)
    status: Literal["sent", "accepted", "declined", "expired", "revoked"] | None = None
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


class InvitationPage(Page):
    results: list[InvitationOut]


class PublicLinkOut(Out):
    type: Literal["referral", "reseller"]
    url: str


class ProjectIn(Input):
    customer_id: BodyId = Field(description="One of the partner's own associated customers.")
    name: str = Field(max_length=200, pattern=NAME)
    expected_amount: Amount
    expected_close: IsoDate = Field(description="Not in the past.")
    description: str = Field("", max_length=5000, pattern=TEXT)


class ProjectOut(Out):
    id: int
    customer: CustomerRef
    name: str
    expected_amount: Decimal
    expected_close: date
    description: str
    status: Literal["submitted", "approved", "rejected"]
    submitted_at: datetime
    reviewed_at: datetime | None
    review_reason: str


class ProjectPage(Page):
    results: list[ProjectOut]


# Customer token: the customer's own account --------------------------------------------------
class MyAccountOut(Out):
    customer: CustomerRef
    association: AssociationOut | None
    cash_balance: Decimal
    cash_withdraw_only: bool
    allocated_balance: Decimal
    arrears: Decimal
    frozen: bool


class MyVoucherOut(Out):
    id: int
    partner: PartnerOut
    amount: Decimal
    status: str
    expires_at: datetime
    issued_at: datetime


class RecordOut(Out):
    id: int
    created_at: datetime
    event: str
    category: str
    customer_id: int | None
    actor_kind: str
    actor_name: str
    reason: str


class RecordPage(Page):
    results: list[RecordOut]


class RecordDetailOut(RecordOut):
    partner_id: int | None
    association_id: int | None
    association_request_id: int | None
    request_id: str
    before: dict
    after: dict


class RecordExportFilters(Schema):
    """The records list's filters; the export is every row they select."""

    model_config = ConfigDict(extra="forbid")
    tab: Literal["mine", "resellers"] = "mine"
    event: Literal[tuple(Event.values)] | None = None
    category: Literal[tuple(Category.values)] | None = None
    customer: str = Field("", max_length=100, pattern=TEXT, description="Account name (exact) or part of a name.")
    actor: str = Field("", max_length=150, pattern=TEXT)
    actor_kind: Literal[tuple(ActorKind.values)] | None = None
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None


class RecordFilters(RecordExportFilters):
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


# Organization ------------------------------------------------------------------------------------
class RoleOut(Out):
    id: int
    name: str
    description: str
    builtin: str
    permissions: list[str]


class MemberOut(Out):
    id: int
    member_name: str
    display_name: str
    email: str
    is_active: bool
    is_partner_admin: bool
    roles: list[int]
    supervisor_id: int | None


class ApiKeyOut(Out):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ManagerAssignIn(Input):
    customer_ids: list[BodyId] = Field(min_length=1, max_length=500)
    manager_id: BodyId | None = Field(description="A member holding a customer-manager role; null for none.")


class ManagerAssignOut(Out):
    changed: int


# Customer token: offers (an invitation or a public link) -------------------------------------
# A signed link token: the last part of the link's address (…/invitation/<token>/).
LINK_TOKEN = r"^[A-Za-z0-9_:.-]{1,200}$"


class LinkIn(Input):
    token: str = Field(max_length=200, pattern=LINK_TOKEN, description="The token at the end of the link.")


class DeclinedInvitationOut(Out):
    id: int
    partner: PartnerOut
    type: Literal["referral", "reseller"]
    status: Literal["declined"]

"""Operation records (R27) and the organization (members, roles, the caller's API keys), read
as the portal's pages read them."""
from django.utils import timezone
from ninja import Path, Query, Router

from api import services as api_services
from api.selectors import api_keys_for
from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import from_first_result, link_to, problems_of
from api.v1.paging import page_json
from api.v1.schemas import (
    MAX_ID,
    ApiKeyOut,
    MemberOut,
    RecordDetailOut,
    RecordExportFilters,
    RecordFilters,
    RecordPage,
    RoleOut,
)
from audit.export import records_csv_response
from audit.forms import RecordFilterForm
from audit.selectors import filter_records, listed_record, record_for_member, record_listing, records_visible_to
from audit.views import ORDERING
from organization.selectors import members_of, roles_for, with_permissions
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["records and organization"])
Id = Path(..., ge=1, le=MAX_ID)
VIEW_RECORDS = "audit.view_operationrecord"


def _filtered(member, filters: RecordExportFilters):
    """The tab and the records the portal's filter form selects. Values the form refuses
    together (an end date before the start; a date that does not exist) select nothing, as on
    the records page."""
    tab = "resellers" if filters.tab == "resellers" and member.partner.is_distributor else "mine"
    data = {k: v for k, v in filters.model_dump(exclude={"tab", "cursor", "limit"}).items() if v not in (None, "")}
    form = RecordFilterForm(data)
    qs = records_visible_to(member, resellers=tab == "resellers")
    return tab, filter_records(qs, **form.cleaned_data) if form.is_valid() else qs.none()


def listed_json(row) -> dict:
    return {name: getattr(row, name) for name in (
        "id", "created_at", "event", "category", "customer_id", "actor_kind", "actor_name", "reason")}


@router.get("/records", response=RecordPage, auth=auth.partner(VIEW_RECORDS), operation_id="listRecords",
            summary="List operation records",
            description="Newest first, with the records page's filters; tab=resellers: a distributor's resellers'.",
            openapi_extra=problems_of(s404=["invalid_cursor"], links={200: [
                link_to("getRecord", record_id=from_first_result())]}))
def list_records(request, filters: Query[RecordFilters]):
    member = request.auth.member
    tab, qs = _filtered(member, filters)
    scope = "api.records:" + ":".join(str(v) for v in (member.partner_id, tab, *filters.model_dump(
        exclude={"cursor", "limit"}).values()))
    paginator = KeysetPaginator(record_listing(qs, resellers=tab == "resellers"), ORDERING, page_size=filters.limit,
                                scope=scope, row=listed_record)
    return page_json(paginator, filters.cursor, listed_json)


@router.get("/records/export", auth=auth.partner(VIEW_RECORDS, "audit.export_records"),
            operation_id="exportRecords", summary="Export the filtered operation records as CSV",
            description="Streams exactly the rows the same filters list, newest first.",
            openapi_extra={"responses": {"200": {"description": "CSV", "content": {"text/csv": {
                "schema": {"type": "string"}}}}}})
def export_records(request, filters: Query[RecordExportFilters]):
    _tab, qs = _filtered(request.auth.member, filters)
    filename = f"operation-records-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = records_csv_response(qs.order_by(*ORDERING), filename=filename)
    response["Cache-Control"] = "no-store"
    return response


@router.get("/records/{record_id}", response=RecordDetailOut, auth=auth.partner(VIEW_RECORDS),
            operation_id="getRecord", summary="Read an operation record, with its before and after",
            openapi_extra=problems_of(s404=["not_found"]))
def get_record(request, record_id: int = Id):
    record = record_for_member(request.auth.member, record_id)
    return {**{name: getattr(record, name) for name in (
        "id", "created_at", "event", "category", "customer_id", "actor_kind", "actor_name", "reason", "partner_id",
        "association_id", "association_request_id", "request_id", "before", "after")}}


@router.get("/members", response=list[MemberOut], auth=auth.partner("organization.manage_members"),
            operation_id="listMembers", summary="The organization's members and their roles")
def list_members(request):
    members = members_of(request.auth.member).prefetch_related("roles").order_by("member_name", "pk")
    return [
        {"id": m.pk, "member_name": m.member_name, "display_name": m.display_name, "email": m.email,
         "is_active": m.is_active, "is_partner_admin": m.is_partner_admin, "roles": [r.pk for r in m.roles.all()],
         "supervisor_id": m.supervisor_id}
        for m in members
    ]


@router.get("/roles", response=list[RoleOut], auth=auth.partner("organization.manage_roles"),
            operation_id="listRoles", summary="The roles members can hold, with their permissions")
def list_roles(request):
    roles = with_permissions(roles_for(request.auth.member)).order_by("name", "pk")
    return [
        {"id": r.pk, "name": r.name, "description": r.description, "builtin": r.builtin or "",
         "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in r.permissions.all())}
        for r in roles
    ]


def key_json(key) -> dict:
    return {name: getattr(key, name) for name in ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")}


@router.get("/api-keys", response=list[ApiKeyOut], auth=auth.partner(), operation_id="listMyApiKeys",
            summary="The calling member's API keys (never the secrets)")
def list_my_api_keys(request):
    member = request.auth.member
    return [key_json(k) for k in api_keys_for(member).filter(created_by=member).order_by("-id")]


@router.post("/api-keys/{key_id}/revoke", response=ApiKeyOut, auth=auth.partner(), operation_id="revokeMyApiKey",
             summary="Revoke one of the calling member's API keys",
             description="Tokens obtained with it stop working at once — the token in use too, if it came from it.",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"]))
@idempotent
def revoke_my_api_key(request, key_id: int = Id):
    from django.shortcuts import get_object_or_404

    member = request.auth.member
    key = get_object_or_404(api_keys_for(member).filter(created_by=member), pk=key_id)
    return key_json(api_services.api_key_revoke(actor=member, api_key=key))

"""The catalogue of operation-record events. Kept out of the model field's choices so that
adding an event needs no migration; ``audit.services.record`` refuses unknown events."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    ASSOCIATION = "association", _("Association")
    FUNDS = "funds", _("Funds")
    VOUCHER = "voucher", _("Voucher")
    ORGANIZATION = "organization", _("Organization")
    API = "api", _("API")


class ActorKind(models.TextChoices):
    MEMBER = "member", _("Member")
    CUSTOMER = "customer", _("Customer")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")


class Event(models.TextChoices):
    # Association lifecycle
    ASSOCIATION_CREATED = "association.created", _("Association created")
    ASSOCIATION_SWITCHED = "association.switched", _("Association type switched")
    ASSOCIATION_ENDED = "association.ended", _("Association ended")
    CUSTOMER_FACTS_UPDATED = "customer.updated", _("Customer account facts updated")
    CUSTOMER_MANAGER_ASSIGNED = "customer.manager_assigned", _("Customer manager assigned")
    RESERVED_INSTANCE_ADDED = "customer.reserved_instance_added", _("Reserved instance added")
    RESERVED_INSTANCE_CHANGED = "customer.reserved_instance_changed", _("Reserved instance changed")
    RESERVED_INSTANCE_REMOVED = "customer.reserved_instance_removed", _("Reserved instance removed")
    # Reseller controls (issue 20)
    CUSTOMER_FROZEN = "customer.frozen", _("Customer account frozen")
    CUSTOMER_UNFROZEN = "customer.unfrozen", _("Customer account unfrozen")
    BUDGET_SET = "customer.budget_set", _("Monthly budget set")
    USAGE_POSTED = "customer.usage_posted", _("Usage posted")
    BUDGET_REACHED_80 = "customer.budget_80", _("80 % of the monthly budget reached")
    BUDGET_REACHED_100 = "customer.budget_100", _("Monthly budget used up")
    CONTROLS_SETTINGS_UPDATED = "organization.controls_updated", _("Reseller controls settings updated")
    FREEZE_GRANT_CHANGED = "organization.freeze_grant_changed", _("Reseller's freeze right changed")
    # Requests (switch, unbind, dissociation)
    REQUEST_SUBMITTED = "request.submitted", _("Request submitted")
    REQUEST_CANCELLED = "request.cancelled", _("Request cancelled")
    REQUEST_CONFIRMED = "request.confirmed", _("Request confirmed")
    REQUEST_REJECTED = "request.rejected", _("Request rejected")
    REQUEST_EXPIRED = "request.expired", _("Request expired")
    REQUEST_APPROVED = "request.approved", _("Request approved")
    REQUEST_AUTO_APPROVED = "request.auto_approved", _("Request approved automatically")
    REQUEST_FAILED = "request.failed", _("Request failed")
    # Invitations and project registration
    INVITATION_SENT = "invitation.sent", _("Invitation sent")
    INVITATION_RESENT = "invitation.resent", _("Invitation re-sent")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    INVITATION_DECLINED = "invitation.declined", _("Invitation declined")
    PROJECT_REGISTERED = "project.registered", _("Project registered")
    PROJECT_APPROVED = "project.approved", _("Project approved")
    PROJECT_REJECTED = "project.rejected", _("Project rejected")
    CUSTOMER_SIGNED_UP = "customer.signed_up", _("Customer account created from a partner's link")
    # Funds
    PARTNER_TOPPED_UP = "funds.topped_up", _("Partner balance topped up")
    VOUCHER_QUOTA_TOPPED_UP = "funds.voucher_quota_topped_up", _("Voucher quota topped up")
    FUNDS_ALLOCATED = "funds.allocated", _("Funds allocated")
    FUNDS_RECOVERED = "funds.recovered", _("Funds recovered")
    FUNDS_RETURNED = "funds.returned", _("Funds returned on end/switch")
    # Vouchers
    VOUCHER_ISSUED = "voucher.issued", _("Voucher issued")
    VOUCHER_RECOVERED = "voucher.recovered", _("Voucher recovered")
    VOUCHERS_RECOVERED = "voucher.recovered_all", _("Vouchers recovered on end")
    # Organization
    PARTNER_CREATED = "partner.created", _("Partner created")
    PARTNER_UPDATED = "partner.updated", _("Partner updated")
    MEMBER_CREATED = "member.created", _("Member created")
    MEMBER_UPDATED = "member.updated", _("Member updated")
    MEMBER_DISABLED = "member.disabled", _("Member disabled")
    MEMBER_ENABLED = "member.enabled", _("Member enabled")
    MEMBER_PASSWORD_RESET = "member.password_reset", _("Member password reset")
    MEMBER_DELETED = "member.deleted", _("Member deleted")
    # Users who are not members (operators, customers' sign-in users), changed in the admin
    USER_CREATED = "user.created", _("User created")
    USER_UPDATED = "user.updated", _("User updated")
    USER_DELETED = "user.deleted", _("User deleted")
    USER_PASSWORD_SET = "user.password_set", _("User password set")
    PROFILE_UPDATED = "profile.updated", _("Profile updated")
    PASSWORD_CHANGED = "profile.password_changed", _("Password changed")
    ROLE_CREATED = "role.created", _("Role created")
    ROLE_UPDATED = "role.updated", _("Role updated")
    ROLE_DELETED = "role.deleted", _("Role deleted")
    SETTINGS_UPDATED = "organization.settings_updated", _("Organization settings updated")
    # API
    API_KEY_CREATED = "api.key_created", _("API key created")
    API_KEY_REVOKED = "api.key_revoked", _("API key revoked")
    TOKEN_EXCHANGED = "api.token_exchanged", _("Partner token exchanged for a customer token")
    CUSTOMER_REGISTERED = "api.customer_registered", _("Customer registered through the API")
    # Webhooks
    WEBHOOK_CREATED = "webhook.created", _("Webhook endpoint created")
    WEBHOOK_UPDATED = "webhook.updated", _("Webhook endpoint updated")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled")
    WEBHOOK_ENABLED = "webhook.enabled", _("Webhook endpoint enabled")
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", _("Webhook signing secret rotated")
    WEBHOOK_DELETED = "webhook.deleted", _("Webhook endpoint deleted")

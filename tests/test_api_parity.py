"""Parity between the portal and API v1: every business action a portal view calls (a service
function: it runs in ``transaction.atomic``, DEVELOPERS.md rule 1) is called by an API v1
operation too, so a partner's software can do what the portal does. A service the API leaves
out on purpose is in NOT_IN_API with its reason; every other one must be called by an API v1
module, or the test fails naming it."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODULES = [
    "customers.requests.services", "customers.funds.services", "customers.controls.services",
    "customers.controls.batches", "customers.invitations.services", "customers.services",
    "organization.services", "api.services", "webhooks.services",
]
VIEW_FILES = sorted(
    p for pattern in ("*/*.py", "*/*/*.py") for p in ROOT.glob(pattern) if "views" in p.name and ".venv" not in p.parts
)
API_FILES = sorted((ROOT / "api" / "v1").glob("*.py"))

NOT_IN_API = {
    # Issue 18 asks for members and roles as reads; managing them and one's own sign-in
    # (password, profile) stay in the portal, behind its operation protection.
    "organization.services.member_create": "members are read-only in the API",
    "organization.services.member_update": "members are read-only in the API",
    "organization.services.member_disable": "members are read-only in the API",
    "organization.services.member_enable": "members are read-only in the API",
    "organization.services.member_reset_password": "passwords stay in the portal",
    "organization.services.password_change": "passwords stay in the portal",
    "organization.services.profile_update": "a member's profile stays in the portal",
    "organization.services.role_create": "roles are read-only in the API",
    "organization.services.role_update": "roles are read-only in the API",
    "organization.services.role_delete": "roles are read-only in the API",
    "organization.services.settings_update": "organization settings stay in the portal",
    "customers.controls.services.controls_settings_update": "organization settings stay in the portal",
    # Creating an API key from the API would let a token mint credentials outliving it.
    "api.services.api_key_create": "API keys are created in the portal",
    # A customer signing up has no token: it is the customer's own browser flow.
    "customers.invitations.services.customer_sign_up": "the customer's own sign-up, no token",
}


def _module_path(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def services() -> set[str]:
    """Functions of the service modules that run in transaction.atomic."""
    found = set()
    for module in SERVICE_MODULES:
        for node in ast.parse(_module_path(module).read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if "transaction.atomic" in ast.unparse(node):
                    found.add(f"{module}.{node.name}")
    return found


def referenced(files) -> set[str]:
    """``module.function`` of every service function the files use (called or passed on)."""
    used = set()
    for path in files:
        tree = ast.parse(path.read_text())
        modules, functions = {}, {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in SERVICE_MODULES:
                        modules[alias.asname or alias.name] = full
                    elif node.module in SERVICE_MODULES:
                        functions[alias.asname or alias.name] = full
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in SERVICE_MODULES:
                        modules[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                used.add(f"{modules[node.value.id]}.{node.attr}")
            elif isinstance(node, ast.Name) and node.id in functions:
                used.add(functions[node.id])
    return used


PORTAL_SERVICES = sorted(services() & referenced(VIEW_FILES))


def test_the_portal_calls_services_at_all():
    assert "customers.funds.services.funds_allocate" in PORTAL_SERVICES and len(PORTAL_SERVICES) > 20


def test_the_lists_name_only_portal_services():
    assert sorted(set(NOT_IN_API) - set(PORTAL_SERVICES)) == []


@pytest.mark.parametrize("service", [s for s in PORTAL_SERVICES if s not in NOT_IN_API])
def test_every_portal_service_has_an_api_operation(service):
    assert service in referenced(API_FILES), f"{service} is called by a portal view but by no API v1 operation"

"""Turns the OpenAPI document into what the /api/docs/ page lists, so the page can never say
something the schema does not."""
import json

from django.utils.translation import gettext as _


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def describe(document: dict, schema: dict) -> str:
    """A one-line description of a field's type and rules."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    kind = schema.get("type", "")
    if kind == "array":
        return _("list of %(item)s") % {"item": describe(document, schema["items"])}
    parts = [kind + (f" ({schema['format']})" if "format" in schema else "")]
    if "enum" in schema:
        parts.append(_("one of %(choices)s") % {"choices": ", ".join(schema["enum"])})
    if "pattern" in schema:
        parts.append(_("matching %(pattern)s") % {"pattern": schema["pattern"]})
    if "minLength" in schema:
        parts.append(_("at least %(min)d characters") % {"min": schema["minLength"]})
    if "maxLength" in schema:
        parts.append(_("at most %(max)d characters") % {"max": schema["maxLength"]})
    if "minimum" in schema:
        parts.append(_("at least %(min)d") % {"min": schema["minimum"]})
    if "maximum" in schema:
        parts.append(_("at most %(max)d") % {"max": schema["maximum"]})
    if schema.get("nullable"):
        parts.append(_("or null"))
    return "; ".join(parts)


def fields(document: dict, schema: dict) -> list[dict]:
    schema = resolve(document, schema)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "required": name in required,
            "rules": describe(document, prop),
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _body(document: dict, operation: dict) -> tuple[list[dict], str]:
    """The body's alternatives (title and fields) and an example to start from."""
    if "requestBody" not in operation:
        return [], ""
    content = operation["requestBody"]["content"]["application/json"]
    schema = content["schema"]
    alternatives = schema.get("oneOf", [schema])
    example = content.get("example") or alternatives[0].get("example") or {}
    return (
        [{"title": alt.get("title", ""), "fields": fields(document, alt)} for alt in alternatives],
        json.dumps(example, indent=2, ensure_ascii=False),
    )


def _responses(operation: dict) -> list[dict]:
    rows = []
    for status, response in operation["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        codes = schema.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
        rows.append(
            {
                "status": status,
                "description": response["description"],
                "codes": codes,
                "model": schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else "",
            }
        )
    return rows


def operations(document: dict) -> list[dict]:
    result = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            alternatives, example = _body(document, operation)
            result.append(
                {
                    "id": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "description": operation["description"],
                    "secured": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "rules": describe(document, p["schema"]),
                            "description": p.get("description", ""),
                            "choices": p["schema"].get("enum", []),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": alternatives,
                    "example": example,
                    "responses": _responses(operation),
                }
            )
    return result


def models(document: dict) -> list[dict]:
    return [
        {"name": name, "description": schema.get("description", ""), "fields": fields(document, schema)}
        for name, schema in document["components"]["schemas"].items()
    ]

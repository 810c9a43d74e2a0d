"""drf-spectacular postprocessing hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): what every operation's
answers mean, and no component that nothing uses."""

# What each status code means on this API, for the answers that carry no description of their own (the error
# answers drf-standardized-errors adds, and the serializer answers of drf-spectacular).
RESPONSE_DESCRIPTIONS = {
    "200": "Success.",
    "201": "Created: the new object, its address in `Location` and its `ETag`.",
    "204": "Done; no body.",
    "304": "Not modified since the ETag sent in If-None-Match.",
    "400": "Invalid input: each error names its field (`attr`, or `non_field_errors`) and a `code`.",
    "401": "No valid token or session (missing, mistyped, expired or revoked).",
    "403": "Not allowed: this user may not do this (a viewer's write, another liaison's country).",
    "404": "No such object, or one this user may not see.",
    "405": "This method is not allowed on this address.",
    "406": "The `Accept` header asks for a type the API does not produce (it answers JSON).",
    "412": "If-Match names a tag that is no longer current: nothing changed; the body holds the object as it is now.",
    "415": "The body is not JSON (`Content-Type: application/json`).",
    "422": "This Idempotency-Key was used for another request: nothing changed.",
    "429": "Too many requests: over the rate limit, or this address is locked out after failed tokens.",
    "500": "Server error.",
}


def describe_responses(result, generator, request, public):
    """Fill every empty response description from RESPONSE_DESCRIPTIONS (Redocly and Spectral want one each)."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                if not response.get("description"):
                    response["description"] = RESPONSE_DESCRIPTIONS.get(str(code), "See the API guide.")
    return result


SERVICE_RULE_ERROR = {
    "type": "object",
    "description": (
        "A refusal by one of the service's rules (a stage gate, an owner who must work on the country, a date out of "
        "order...) or of a header (`Idempotency-Key`): any field (`attr`, or `non_field_errors`), a code naming the "
        "rule, and its message."
    ),
    "properties": {
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "attr": {"type": "string", "nullable": True},
    },
    "required": ["attr", "code", "detail"],
}
WRITES = ("post", "put", "patch")


def _component(result, ref):
    return result["components"]["schemas"].get(ref.rsplit("/", 1)[-1]) if ref else None


def admit_service_rule_errors(result, generator, request, public):
    """The 400 of each write: its own shape (the fields of its body and the codes each can carry), or a refusal of
    its service's rules, which can name any field with a code the serializer does not know.

    drf-standardized-errors gives each write ``<Operation>ErrorResponse400``: a validation error whose items are
    ``oneOf`` the per-field errors. Here the items become ``anyOf`` those and ``ServiceRuleError``, so the answers
    stay true to the document and the fields and codes stay listed. A write whose 400 has no validation shape of its
    own (no body) gets ``ServiceRuleError`` items in the same error shape."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ServiceRuleError"] = SERVICE_RULE_ERROR
    rule = {"$ref": "#/components/schemas/ServiceRuleError"}
    for item in result.get("paths", {}).values():
        for method in WRITES:
            response = item.get(method, {}).get("responses", {}).get("400")
            if not response:
                continue
            media = response.setdefault("content", {}).setdefault("application/json", {})
            shape = _component(result, media.get("schema", {}).get("$ref"))
            members = [_component(result, member.get("$ref")) for member in (shape or {}).get("oneOf", [])]
            validation = next((m for m in members if m and m["properties"]["type"] == VALIDATION_TYPE), None)
            errors = _component(result, validation["properties"]["errors"]["items"].get("$ref")) if validation else None
            if errors and "oneOf" in errors:
                errors["anyOf"] = [*errors.pop("oneOf"), rule]
                errors.pop("discriminator", None)
                continue
            # No body of its own to refuse (an action without one): the refusals are the service's.
            schemas["ServiceRuleErrorResponse"] = {
                "type": "object",
                "properties": {"type": VALIDATION_TYPE, "errors": {"type": "array", "items": rule}},
                "required": ["errors", "type"],
            }
            ref = "#/components/schemas/ServiceRuleErrorResponse"
            if shape and validation is None and "oneOf" in shape:  # e.g. a parse error: keep it beside
                shape["oneOf"].append({"$ref": ref})
                shape.get("discriminator", {}).get("mapping", {})["validation_error"] = ref
            else:
                media["schema"] = {"$ref": ref}
    return result


VALIDATION_TYPE = {"$ref": "#/components/schemas/ValidationErrorEnum"}


def _references(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(tuple(ref[len("#/components/") :].split("/", 1)))
        for value in node.values():
            _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)
    return found


def drop_unused_components(result, generator, request, public):
    """Remove the components that no operation reaches (directly or through other components).

    drf-standardized-errors registers a 400 shape for each operation (and one per field) before core.api.schema
    replaces a write's 400 by the shape its services can answer; what is replaced would stay behind, unused."""
    components = result.get("components", {})
    reachable = _references({key: value for key, value in result.items() if key != "components"}, set())
    pending = list(reachable)
    while pending:
        kind, name = pending.pop()
        for found in _references(components.get(kind, {}).get(name), set()):
            if found not in reachable:
                reachable.add(found)
                pending.append(found)
    for kind in ("schemas", "responses", "parameters", "examples", "requestBodies", "headers"):
        section = components.get(kind)
        if section:
            for name in [name for name in section if (kind, name) not in reachable]:
                del section[name]
    return result

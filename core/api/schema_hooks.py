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

"""Query strings of the portal's lists: the filters kept, some parameters dropped (tabs, exports, pagination)."""


def query_without(query, *names) -> str:
    """``query`` (a QueryDict, such as ``request.GET``) minus the parameters ``names``, URL-encoded."""
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()

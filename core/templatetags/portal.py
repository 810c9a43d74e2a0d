"""Template tags shared by the portal's pages."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number) -> str:
    """The current query string with ``page`` set to ``number``: pages keep their filters and sort order."""
    query = context["request"].GET.copy()
    query["page"] = number
    return query.urlencode()

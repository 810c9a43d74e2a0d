"""The shared pagination links keep the page's filters and sort order, escaped, and only the page changes."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def test_the_links_keep_every_filter_and_change_only_the_page():
    request = RequestFactory().get("/follow-ups/", {"show": "all", "q": "a&b <x>", "page": "2"})
    page = Paginator(range(120), 50).get_page(2)
    html = render_to_string("includes/pagination.html", {"page": page, "request": request})
    assert 'href="?show=all&amp;q=a%26b+%3Cx%3E&amp;page=1"' in html
    assert 'href="?show=all&amp;q=a%26b+%3Cx%3E&amp;page=3"' in html
    assert "Page 2 of 3" in html


def test_a_single_page_has_no_pagination():
    request = RequestFactory().get("/follow-ups/")
    assert (
        render_to_string("includes/pagination.html", {"page": Paginator(range(3), 50).get_page(1), "request": request}).strip()
        == ""
    )

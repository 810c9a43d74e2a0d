"""HTML to PDF with WeasyPrint, which needs Pango (and its fonts) from the operating system.

Where those libraries are missing WeasyPrint's import raises ``OSError``: ``html_to_pdf`` then raises
``PdfUnavailable`` and the page that asked says so, instead of failing with a server error. A document never
fetches anything over the network: its stylesheets and images come from the static files on disk.
"""

import mimetypes
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders


class PdfUnavailable(Exception):
    """This server cannot make PDFs (WeasyPrint or the system libraries it needs are missing)."""


def _weasyprint():
    try:
        import weasyprint
        import weasyprint.urls
    except (ImportError, OSError) as exc:  # OSError: Pango, HarfBuzz or fontconfig not installed
        raise PdfUnavailable(str(exc)) from exc
    return weasyprint


def pdf_available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def _static_path(url: str) -> str | None:
    path = unquote(urlsplit(url).path)
    prefix = urlsplit(settings.STATIC_URL).path
    if not path.startswith(prefix):
        return None
    relative = path[len(prefix) :]
    found = finders.find(relative)
    if found:
        return found
    root = getattr(settings, "STATIC_ROOT", None)
    if root:
        from django.contrib.staticfiles.storage import staticfiles_storage

        try:
            return staticfiles_storage.path(relative)
        except (NotImplementedError, ValueError):
            return None
    return None


def _static_only_fetcher(weasyprint):
    """WeasyPrint's URL fetcher: the portal's own static files, from disk; anything else is refused (no request
    leaves the server while a document is made)."""

    class StaticOnlyFetcher(weasyprint.urls.URLFetcher):
        def fetch(self, url, headers=None):
            path = _static_path(url)
            if path is None:
                raise ValueError(f"not a static file of the portal: {url}")
            with open(path, "rb") as handle:
                body = handle.read()
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticOnlyFetcher()


def html_to_pdf(html: str, *, base_url: str = "http://portal.invalid/") -> bytes:
    """The PDF of an HTML page rendered by the portal (its print stylesheet applies: WeasyPrint is a print medium)."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_static_only_fetcher(weasyprint)).write_pdf()


def html_document(html: str, *, base_url: str = "http://portal.invalid/"):
    """The laid-out pages of one HTML page (a WeasyPrint document), to be joined with others by ``join_pdf``."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_static_only_fetcher(weasyprint)).render()


def join_pdf(documents) -> bytes:
    """One PDF of the pages of several documents, in order: each keeps its own running strings and page counters."""
    documents = list(documents)
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()

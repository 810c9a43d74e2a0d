"""The error pages: in the portal's layout, saying what happened and what to do next, in English and French; the
500 page renders without a database."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django.utils import translation
from django.views.defaults import bad_request, server_error

from tests import factories


def _boom(request):
    raise RuntimeError("a bug")


def _refused(request):
    raise PermissionDenied("You may not change data for France: it is not one of your countries.")


urlpatterns = [path("boom/", _boom), path("refused/", _refused), path("", include("config.urls"))]


def _layout(html):
    assert '<header class="site-header">' in html and '<main id="main"' in html
    assert 'href="/"' in html  # a way on


@pytest.mark.django_db
@pytest.mark.parametrize("language, heading", [("en", "Page not found"), ("fr", "Page introuvable")])
def test_404_in_the_layout_in_both_languages(client, language, heading):
    client.force_login(factories.viewer(username="reader"))
    response = client.get("/countries/zz/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = response.content.decode()
    _layout(html)
    assert f'<h1 id="error-title">{heading}</h1>' in html and f'<html lang="{language}">' in html


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_403_says_why_and_what_to_do(client):
    client.force_login(factories.viewer(username="reader"))
    response = client.get("/refused/")
    assert response.status_code == 403
    html = response.content.decode()
    _layout(html)
    assert "You may not do this" in html and "it is not one of your countries." in html
    french = client.get("/refused/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vous ne pouvez pas faire cela" in french


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_500_in_the_layout(client):
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 500
    html = response.content.decode()
    _layout(html)
    assert "Un problème est survenu de notre côté" in html


def test_500_renders_without_a_database():
    """No ``db`` mark: pytest-django makes any query here an error, so a page that needed the database would fail."""
    request = RequestFactory().get("/anything/")
    with translation.override("en"):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    _layout(html)
    assert "Something went wrong on our side" in html and "it was not saved" in html


@pytest.mark.django_db
def test_400_in_the_layout():
    response = bad_request(RequestFactory().get("/"), exception=None)
    assert response.status_code == 400 and "The request was not understood" in response.content.decode()


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_the_explained_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    html = response.content.decode()
    _layout(html)
    assert "The form had expired" in html and "nothing was saved" in html

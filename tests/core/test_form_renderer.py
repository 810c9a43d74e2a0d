"""The portal's form renderer writes selects as Django's templates do, character for character."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from core.form_renderer import PortalFormRenderer
from countries.models import Country


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "A & B"), ("b", '"quoted" <b>')], required=False)
    grouped = forms.ChoiceField(
        choices=[("", "None"), ("Group <1>", [("x", "X"), ("y", "Y")]), ("Group 2", [("z", gettext_lazy("Region"))])]
    )
    many = forms.MultipleChoiceField(choices=[(1, 1000), (2, datetime.date(2026, 3, 4)), (3, mark_safe("<em>safe</em>"))])
    marked = forms.ChoiceField(
        choices=[("a", "A")], widget=forms.Select(attrs={"class": "wide", "data-x": 'a"b', "disabled": True, "hidden": False})
    )


def _both(form_class, data=None, **kwargs):
    fast = form_class(data, renderer=PortalFormRenderer(), **kwargs)
    slow = form_class(data, renderer=DjangoTemplates(), **kwargs)
    for name in fast.fields:
        yield name, str(fast[name]), str(slow[name])


@pytest.mark.parametrize("data", [None, {"plain": "a", "grouped": "y", "many": ["1", "3"], "marked": "a"}, {"grouped": "nope"}])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_selects_are_written_as_the_templates_write_them(data, language):
    with override(language):
        for name, fast, slow in _both(Choices, data):
            assert fast == slow, name
            assert "<select" in fast


@pytest.mark.django_db
def test_a_model_choice_select_and_the_other_widgets_are_the_same_too():
    Country.objects.get_or_create(iso2="GB", defaults={"iso3": "GBR", "numeric": "826", "name_en": "United Kingdom"})

    class Mixed(forms.Form):
        country = forms.ModelChoiceField(queryset=Country.objects.order_by("iso2"), empty_label="Any country")
        note = forms.CharField(widget=forms.Textarea)
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
        day = forms.DateField()

    for name, fast, slow in _both(Mixed, {"kind": "b", "day": "2026-01-02"}):
        assert fast == slow, name


def test_a_widget_with_its_own_option_template_keeps_the_templates(monkeypatch):
    class OwnOptions(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    class Form(forms.Form):
        choice = forms.ChoiceField(choices=[("a", "A")], widget=OwnOptions)

    calls = []
    original = DjangoTemplates.render
    monkeypatch.setattr(DjangoTemplates, "render", lambda self, *a, **k: calls.append(a[0]) or original(self, *a, **k))
    str(Form(renderer=PortalFormRenderer())["choice"])
    assert "django/forms/widgets/select.html" in calls

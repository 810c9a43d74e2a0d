from django import forms
from django.db.models import Case, Value, When
from django.utils.translation import gettext_lazy as _

from core import roles
from countries.models import Country
from countries.selectors import country_list

from .selectors import ACTIVE, DEACTIVATED, INVITED, ORDERINGS


def _role_choices():
    return [(name, label) for name, label in roles.ROLE_LABELS.items()]


class CountryCodeChoiceField(forms.ModelChoiceField):
    """A country picked by its lower-case code (the value in the address of a filtered list)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=country_list().order_by("sort_en"), to_field_name="iso2", **kwargs)

    def to_python(self, value):
        return super().to_python(value.upper() if isinstance(value, str) else value)

    def prepare_value(self, value):
        value = super().prepare_value(value)
        return value.lower() if isinstance(value, str) else value

    def label_from_instance(self, obj):
        return obj.name


class CountriesField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Countries (liaisons only)"))
        kwargs.setdefault("help_text", _("The countries a liaison writes for. Hold Ctrl (or ⌘) to choose several."))
        super().__init__(queryset=Country.objects.order_by("sort_en"), widget=forms.SelectMultiple(attrs={"size": 8}), **kwargs)

    def label_from_instance(self, obj):
        return obj.name


class UserFilterForm(forms.Form):
    # Not "q": the header's search box shows "q" of the page's address.
    who = forms.CharField(label=_("Name or e-mail"), required=False, max_length=200)
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("Any role")), ("administrator", _("Administrator")), *_role_choices(), ("none", _("No role"))],
    )
    country = CountryCodeChoiceField(label=_("Country"), required=False, empty_label=_("Any country"))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), (ACTIVE, _("Active")), (INVITED, _("Invited")), (DEACTIVATED, _("Deactivated"))],
    )
    ordering = forms.ChoiceField(
        label=_("Order by"),
        required=False,
        choices=[("name", _("Name")), ("-last_login", _("Last sign-in, latest first")), ("email", _("E-mail"))],
    )

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        ordering = data.get("ordering") or "name"
        return {
            "q": data.get("who", ""),
            "role": data.get("role", ""),
            "country": data.get("country"),
            "status": data.get("status", ""),
            "ordering": ordering if ordering in ORDERINGS else "name",
        }

    def is_filtered(self) -> bool:
        f = self.filters()
        return bool(f["q"] or f["role"] or f["country"] or f["status"])


class AccessForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=_role_choices, widget=forms.RadioSelect)
    countries = CountriesField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The countries already assigned come first, so the list opens on them rather than on Afghanistan.
        chosen = [pk for pk in (self.initial.get("countries") or []) if pk]
        if chosen:
            first = Case(When(pk__in=chosen, then=Value(0)), default=Value(1))
            self.fields["countries"].queryset = Country.objects.order_by(first, "sort_en")


class InviteForm(AccessForm):
    email = forms.EmailField(label=_("E-mail"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    field_order = ["email", "first_name", "last_name", "role", "countries"]

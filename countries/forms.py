from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import RecordDateField, VersionedForm
from core.idempotency import OneTimeTokenForm
from core.limits import REASON_MAX_LENGTH

from .models import Counterpart


class CounterpartForm(forms.ModelForm):
    """Add or edit a counterpart (the service ``counterpart_create``/``counterpart_update`` does the writing)."""

    class Meta:
        model = Counterpart
        fields = ["name", "title", "organisation", "email", "phone", "active_from", "active_to", "notes"]
        help_texts = {
            "active_to": _("Empty while they hold the post. Correct or clear a departure recorded by mistake here."),
        }
        widgets = {
            "active_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "active_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class CounterpartNewForm(OneTimeTokenForm, CounterpartForm):
    """Add a counterpart: sending the same input twice with the page's token adds them once."""


class CounterpartEditForm(CounterpartForm, VersionedForm):
    """Edit a counterpart: carries the version the page showed, so a save after someone else's is refused."""


class LeavePostForm(forms.Form):
    """Record that a counterpart left their post, and optionally who took it over."""

    left_on = RecordDateField(label=_("Left on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    successor_name = forms.CharField(
        label=_("Successor's name"), required=False, max_length=200,
        help_text=_("If you know who took over the post, they are added with the same title and ministry."),
    )  # fmt: skip
    successor_email = forms.EmailField(label=_("Successor's e-mail"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("successor_email") and not data.get("successor_name"):
            self.add_error("successor_name", _("Give the successor's name with their e-mail, or clear the e-mail."))
        return data


class EraseForm(forms.Form):
    """Erase a person: the reason, which the audit log keeps (the service checks it again)."""

    reason = forms.CharField(
        label=_("Why is this person's data erased?"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: “Request under the GDPR received on 3 March”. Do not name the person: the reason is kept."),
    )


class CountryGroupingForm(forms.Form):
    """A named set of programme countries (``services.grouping_create``/``grouping_update`` write it)."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("For example “Gulf partners” or “G7”."))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    countries = forms.ModelMultipleChoiceField(
        label=_("Countries"),
        queryset=None,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("Hold Ctrl (or ⌘ on a Mac) to choose several."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import programme_countries

        self.fields["countries"].queryset = programme_countries()

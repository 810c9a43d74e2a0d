from django import forms
from django.utils.translation import gettext_lazy as _

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


STALE_PAGE = _("This page is out of date: reload it and try again.")


class CounterpartEditForm(CounterpartForm):
    """Edit a counterpart: carries the version the page showed, so a save after someone else's is refused."""

    # Not required, so a page rendered before versions existed still saves (the last write wins for it).
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1,
        error_messages={"invalid": STALE_PAGE, "min_value": STALE_PAGE},
    )  # fmt: skip

    def take_version(self, version: int) -> None:
        """After a conflict: keep what the user typed, but carry the version they have now been shown, so saving
        again replaces the current values (on purpose, having seen them)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(version)


class LeavePostForm(forms.Form):
    """Record that a counterpart left their post, and optionally who took it over."""

    left_on = forms.DateField(label=_("Left on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
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

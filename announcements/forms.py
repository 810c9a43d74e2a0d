from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import RecordDateTimeField, VersionedForm
from core.i18n import name_order
from core.idempotency import OneTimeTokenForm
from core.limits import REASON_MAX_LENGTH
from engagements.models import Agreement
from infrastructure.models import Facility
from tracks.models import Track


class AnnouncementForm(forms.Form):
    """Draft or edit an announcement (the services check who may write what)."""

    title = forms.CharField(label=pgettext_lazy("announcement", "Title"), max_length=300)
    body = forms.CharField(
        label=_("Text"), required=False, max_length=50000, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Plain text: blank lines separate paragraphs, web addresses become links. HTML shows as typed."),
    )  # fmt: skip
    countries = forms.ModelMultipleChoiceField(
        label=_("Countries"), queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or Cmd) to choose several. None: an announcement about the whole programme (staff only)."),
    )  # fmt: skip
    tracks = forms.ModelMultipleChoiceField(
        label=_("Tracks"), queryset=Track.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    agreements = forms.ModelMultipleChoiceField(
        label=_("Agreements it refers to"), queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Agreements with the countries named above."),
    )  # fmt: skip
    facilities = forms.ModelMultipleChoiceField(
        label=_("Facilities it refers to"), queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Data centres and supercomputers in the countries named above."),
    )  # fmt: skip
    is_public = forms.BooleanField(
        label=_("Public"), required=False, initial=True, help_text=_("Shown on the public pages and feeds once published.")
    )
    source_url = forms.URLField(label=_("Source (web address)"), required=False, max_length=200, assume_scheme="https")

    def __init__(self, *args, countries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].queryset = countries
        self.fields["tracks"].queryset = Track.objects.filter(is_active=True).order_by("position")
        self.fields["agreements"].queryset = (
            Agreement.objects.filter(country__in=countries)
            .select_related("country")
            .order_by(name_order("country__"), "-signed_on")
        )
        self.fields["agreements"].label_from_instance = lambda a: f"{a.country.name}: {a.title}"
        self.fields["facilities"].queryset = (
            Facility.objects.filter(country__in=countries).select_related("country").order_by(name_order("country__"), "name")
        )
        self.fields["facilities"].label_from_instance = lambda f: f"{f.country.name}: {f.name}"


class AnnouncementNewForm(OneTimeTokenForm, AnnouncementForm):
    """Draft an announcement: sending the same input twice with the page's token saves one draft."""


class AnnouncementEditForm(AnnouncementForm, VersionedForm):
    """Edit an announcement: carries the version the page showed, so a save after someone else's is refused."""


class ScheduleForm(forms.Form):
    embargo_until = RecordDateTimeField(
        label=_("Embargo until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from countries.models import Counterpart

from .models import Engagement, Track

STALE_PAGE = _("This page is out of date: reload it and try again.")


class StageMoveForm(forms.Form):
    """Move, pause, resume or withdraw one track of a country (the rules live in the services)."""

    ACTIONS = [
        ("move", _("Move to a stage")),
        ("pause", _("Pause")),
        ("resume", _("Resume")),
        ("withdraw", _("Withdraw")),
    ]

    action = forms.ChoiceField(label=_("What to do"), choices=ACTIONS, initial="move")
    to_stage = forms.ChoiceField(label=_("Stage"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to move back down the ladder or to re-open a withdrawn track."),
    )  # fmt: skip
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to pause or withdraw."),
    )  # fmt: skip
    resume_on = forms.DateField(
        label=_("Resume on"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Needed to pause.")
    )
    evidence = forms.ChoiceField(
        label=_("Evidence"), required=False,
        help_text=_("For a move: the engagement, agreement or announcement that shows it."),
    )  # fmt: skip
    # The version of the track the page showed: the service refuses the change if someone saved the track since.
    # Not required, so a page rendered before versions existed still saves (the last write wins for it).
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1,
        error_messages={"invalid": STALE_PAGE, "min_value": STALE_PAGE},
    )  # fmt: skip

    def __init__(self, *args, cell, evidence_choices=(), **kwargs):
        """``evidence_choices``: grouped choices of "kind:id" values, built once for the country's cells."""
        super().__init__(*args, prefix=f"track-{cell.track.key}", **kwargs)
        self.fields["to_stage"].choices = [(stage.key, stage.name) for stage in cell.ladder]
        self.fields["to_stage"].initial = cell.ladder_stage.key
        self.fields["evidence"].choices = [("", _("None")), *evidence_choices]
        self.fields["version"].initial = cell.version

    def take_version(self, version: int) -> None:
        """After a conflict: keep what the user typed, but carry the version they have now been shown, so saving
        again applies their change to the current state (on purpose, having seen it)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(version)


class EngagementForm(forms.Form):
    """Log an engagement: the service ``engagement_log`` holds the rules; this form only reads the input.

    ``new_counterpart_*`` is the quick-add of someone not yet on record: created in the same transaction
    as the engagement (or at once by the "Add" button, when scripts run).
    """

    occurred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Engagement.Kind.choices, initial=Engagement.Kind.MEETING)
    tracks = forms.ModelMultipleChoiceField(
        label=_("Tracks touched"), queryset=Track.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    counterparts = forms.ModelMultipleChoiceField(
        label=_("Counterparts met"), queryset=Counterpart.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    new_counterpart_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_counterpart_title = forms.CharField(label=_("Title"), required=False, max_length=200)
    new_counterpart_organisation = forms.CharField(label=_("Ministry or agency"), required=False, max_length=200)
    summary = forms.CharField(
        label=_("Summary"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was discussed."),
        error_messages={"required": _("Summarise what was discussed.")},
    )  # fmt: skip
    outcome = forms.CharField(
        label=_("Outcome"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was agreed or decided, if anything."),
    )  # fmt: skip
    confidential = forms.BooleanField(
        label=_("Confidential"), required=False,
        help_text=_("Only the country's liaisons and programme staff can read it; it stays out of published counts."),
    )  # fmt: skip

    QUICK_ADD = ("new_counterpart_name", "new_counterpart_title", "new_counterpart_organisation")

    def __init__(self, *args, country, **kwargs):
        super().__init__(*args, **kwargs)
        from countries.selectors import counterpart_list

        self.fields["tracks"].queryset = Track.objects.filter(is_active=True).order_by("position")
        self.fields["counterparts"].queryset = counterpart_list(country=country, active_only=True).order_by("name")

    def clean(self):
        data = super().clean()
        about_someone = data.get("new_counterpart_title") or data.get("new_counterpart_organisation")
        if about_someone and not data.get("new_counterpart_name"):
            self.add_error("new_counterpart_name", _("Give the new counterpart's name, or clear the title and ministry."))
        return data

    def new_counterpart(self) -> dict | None:
        """The quick-add fields as ``counterpart_create`` arguments, or None when left blank."""
        if not self.cleaned_data.get("new_counterpart_name"):
            return None
        return {
            "name": self.cleaned_data["new_counterpart_name"],
            "title": self.cleaned_data.get("new_counterpart_title", ""),
            "organisation": self.cleaned_data.get("new_counterpart_organisation", ""),
        }


class FollowUpRowForm(forms.Form):
    """One follow-up row of the engagement form; a row left blank is ignored."""

    description = forms.CharField(label=_("What to do"), required=False, max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, owners, default_owner=None, **kwargs):
        """``owners``: the people who may own a follow-up, loaded once for all the rows of the form."""
        super().__init__(*args, **kwargs)
        self.owners = {user.pk: user for user in owners}
        self.fields["owner"].choices = [("", _("Nobody yet"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in self.owners.values()
        ]
        self.fields["owner"].initial = default_owner.pk if default_owner else None  # an untouched row stays blank

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        return self.owners[owner] if owner is not None else None

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("description") and not data.get("due_on")


FOLLOW_UP_ROWS_MAX = 20
FollowUpFormSet = forms.formset_factory(
    FollowUpRowForm, extra=1, max_num=FOLLOW_UP_ROWS_MAX, absolute_max=FOLLOW_UP_ROWS_MAX, validate_max=True
)


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
        from infrastructure.models import Facility

        from .models import Agreement

        self.fields["countries"].queryset = countries
        self.fields["tracks"].queryset = Track.objects.filter(is_active=True).order_by("position")
        self.fields["agreements"].queryset = (
            Agreement.objects.filter(country__in=countries).select_related("country").order_by("country__name_en", "-signed_on")
        )
        self.fields["agreements"].label_from_instance = lambda a: f"{a.country.name}: {a.title}"
        self.fields["facilities"].queryset = (
            Facility.objects.filter(country__in=countries).select_related("country").order_by("country__name_en", "name")
        )
        self.fields["facilities"].label_from_instance = lambda f: f"{f.country.name}: {f.name}"


class ScheduleForm(forms.Form):
    embargo_until = forms.DateTimeField(
        label=_("Embargo until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

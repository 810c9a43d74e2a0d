from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.forms import RecordDateField, VersionedForm
from core.idempotency import OneTimeTokenForm
from core.limits import REASON_MAX_LENGTH
from countries.models import Counterpart
from countries.policies import country_writers
from countries.selectors import counterpart_list
from tracks.models import Track

from .models import Engagement


class EngagementForm(OneTimeTokenForm):
    """Log an engagement: the service ``engagement_log`` holds the rules; this form only reads the input. Its one-time
    token makes a second send of the same input (a double click) show the engagement logged by the first.

    ``new_counterpart_*`` is the quick-add of someone not yet on record: created in the same transaction
    as the engagement (or at once by the "Add" button, when scripts run).
    """

    occurred_on = RecordDateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
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

    def __init__(self, *args, country, engagement=None, **kwargs):
        """``engagement``: the one being edited; the people it names stay on the list even once out of post, and
        its tracks even once inactive (the service refuses only a newly named inactive one)."""
        super().__init__(*args, **kwargs)
        tracks = Track.objects.filter(is_active=True)
        people = counterpart_list(country=country, active_only=True)
        if engagement is not None:
            tracks = Track.objects.filter(Q(is_active=True) | Q(engagements=engagement)).distinct()
            # An erased person it names stays named ("a counterpart (erased)"), never offered to another engagement.
            people = counterpart_list(country=country, include_erased=True).filter(
                Q(pk__in=people.values("pk")) | Q(pk__in=engagement.counterparts.values("pk"))
            )
        self.fields["tracks"].queryset = tracks.order_by("position")
        self.fields["counterparts"].queryset = people.order_by("name")

    def clean(self):
        data = super().clean()
        about_someone = data.get("new_counterpart_title") or data.get("new_counterpart_organisation")
        if about_someone and not data.get("new_counterpart_name"):
            self.add_error("new_counterpart_name", _("Give the new counterpart's name, or clear the title and ministry."))
        return data

    def sensitivity(self) -> str:
        """The ``confidential`` checkbox as the engagement's sensitivity."""
        confidential = self.cleaned_data.get("confidential")
        return Engagement.Sensitivity.CONFIDENTIAL if confidential else Engagement.Sensitivity.NORMAL

    def new_counterpart(self) -> dict | None:
        """The quick-add fields as ``counterpart_create`` arguments, or None when left blank."""
        if not self.cleaned_data.get("new_counterpart_name"):
            return None
        return {
            "name": self.cleaned_data["new_counterpart_name"],
            "title": self.cleaned_data.get("new_counterpart_title", ""),
            "organisation": self.cleaned_data.get("new_counterpart_organisation", ""),
        }


class EngagementEditForm(EngagementForm, VersionedForm):
    """Correct an engagement with the form that logged it. Making a confidential engagement normal shows it to every
    reader: it needs ``confirm_normal`` ticked as well."""

    confirm_normal = forms.BooleanField(label=_("Yes, make it normal: every reader of the portal will see it"), required=False)
    form_token = None  # an edit is guarded by its version instead

    def __init__(self, *args, engagement, **kwargs):
        """The fields start from the engagement as stored, with its version."""
        kwargs.setdefault(
            "initial",
            {
                "version": engagement.version,
                "occurred_on": engagement.occurred_on,
                "kind": engagement.kind,
                "tracks": list(engagement.tracks.all()),
                "counterparts": list(engagement.counterparts.all()),
                "summary": engagement.summary,
                "outcome": engagement.outcome,
                "confidential": engagement.is_confidential,
            },
        )
        super().__init__(*args, engagement=engagement, **kwargs)
        self.was_confidential = engagement.is_confidential
        if not self.was_confidential:
            del self.fields["confirm_normal"]

    def clean(self):
        data = super().clean()
        if self.was_confidential and not data.get("confidential") and not data.get("confirm_normal"):
            self.add_error(
                "confirm_normal",
                _("This engagement is confidential. To show it to every reader, tick the box to confirm; else tick "
                  "“Confidential” again."),
            )  # fmt: skip
        return data


class FollowUpForm(VersionedForm):
    """Add or edit one follow-up of a country (the service checks the owner works on it and the track is active)."""

    description = forms.CharField(label=_("What to do"), max_length=300)
    due_on = RecordDateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    track = forms.ModelChoiceField(label=_("Track"), queryset=Track.objects.none(), required=False, empty_label=_("No track"))

    def __init__(self, *args, country, follow_up=None, **kwargs):
        """``follow_up``: the one edited; its owner and track stay on the lists even if the owner no longer works
        on the country or the track is inactive (only the fields changed are saved)."""
        super().__init__(*args, **kwargs)
        self.owners = {user.pk: user for user in country_writers(country)}
        if follow_up is not None and follow_up.owner_id and follow_up.owner_id not in self.owners:
            self.owners[follow_up.owner_id] = follow_up.owner
        self.fields["owner"].choices = [("", _("Nobody yet"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in self.owners.values()
        ]
        tracks = (
            Q(is_active=True) | Q(pk=follow_up.track_id) if follow_up is not None and follow_up.track_id else Q(is_active=True)
        )
        self.fields["track"].queryset = Track.objects.filter(tracks).order_by("position")

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is not None and owner not in self.owners:
            raise forms.ValidationError(_("Choose someone who works on this country."))
        return self.owners.get(owner)


class FollowUpNewForm(OneTimeTokenForm, FollowUpForm):
    """Add a follow-up: sending the same input twice with the page's token adds it once."""


class FollowUpFilterForm(forms.Form):
    """The filters of the follow-ups list (kept across its tabs and pages). An invalid value is reported and
    ignored; the valid ones apply."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    track = forms.ChoiceField(label=_("Track"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    q = forms.CharField(label=_("Text"), required=False, max_length=100)

    def __init__(self, *args, countries, owners, **kwargs):
        """``countries``: those with a partnership; ``owners``: the people who own a follow-up the reader sees."""
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *((c.iso2.lower(), c.name) for c in countries)]
        tracks = Track.objects.filter(is_active=True).order_by("position")
        self.fields["track"].choices = [("", _("All tracks")), *((t.key, t.name) for t in tracks)]
        self.fields["owner"].choices = [
            ("", _("Anyone")), ("none", _("Nobody yet")),
            *((str(user.pk), user.get_full_name() or user.get_username()) for user in owners),
        ]  # fmt: skip

    def apply(self, follow_ups):
        """``follow_ups`` narrowed by the valid filters (call after ``is_valid()``)."""
        data = getattr(self, "cleaned_data", {})
        if data.get("country"):
            follow_ups = follow_ups.filter(country__iso2=data["country"].upper())
        if data.get("track"):
            follow_ups = follow_ups.filter(track__key=data["track"])
        if data.get("owner") == "none":
            follow_ups = follow_ups.filter(owner__isnull=True)
        elif data.get("owner"):
            follow_ups = follow_ups.filter(owner_id=int(data["owner"]))
        if data.get("q"):
            follow_ups = follow_ups.filter(description__icontains=data["q"])
        return follow_ups

    def is_filtered(self) -> bool:
        return any(getattr(self, "cleaned_data", {}).values())


class FollowUpBulkForm(forms.Form):
    """Several follow-ups of the list at once: mark them done, or give them to someone. The service checks the
    rights, the versions and the owner; this form only reads the input (cheaply, before any query)."""

    COMPLETE, REASSIGN = "complete", "reassign"
    action = forms.ChoiceField(choices=[(COMPLETE, _("Mark done")), (REASSIGN, _("Give to"))])
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    NOBODY = "nobody"
    owner = forms.ChoiceField(label=_("Give the selected to"), required=False)

    def __init__(self, data, *, owners, limit):
        super().__init__(data, auto_id="bulk_%s")  # ids apart from the filters' fields of the same names
        self.limit = limit
        self.owners = {user.pk: user for user in owners}
        self.fields["owner"].choices = [("", _("Choose someone")), (self.NOBODY, _("Nobody (no owner)"))] + [
            (str(user.pk), user.get_full_name() or user.get_username()) for user in self.owners.values()
        ]
        raw = data.getlist("ids")[: limit + 1] if hasattr(data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw if value.isdigit() and len(value) < 12]

    def clean_ids(self):
        ids = self.cleaned_data["ids"]
        if not ids:
            raise forms.ValidationError(_("Select at least one follow-up."))
        if len(ids) > self.limit:
            raise forms.ValidationError(_("Select at most %(max)d follow-ups at a time.") % {"max": self.limit})
        return ids

    def clean_owner(self):
        """The user chosen, or None for "nobody"; the choices hold only people who work on a country."""
        owner = self.cleaned_data.get("owner") or ""
        return None if owner in ("", self.NOBODY) else self.owners[int(owner)]

    def clean(self):
        data = super().clean()
        if data.get("action") == self.REASSIGN and not self.data.get("owner"):
            self.add_error("owner", _("Choose who gets the selected follow-ups."))
        return data

    def expected_versions(self) -> dict[int, int]:
        """{pk: the version the page showed}, from the ``version-<pk>`` fields (a missing or bad one reads 0,
        which no row has, so that follow-up is reported as changed)."""
        versions = {}
        for pk in self.cleaned_data["ids"]:
            value = self.data.get(f"version-{pk}", "")
            versions[pk] = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0
        return versions


class VoidForm(forms.Form):
    """Void an engagement (logged twice, by mistake): the service needs a reason."""

    reason = forms.CharField(
        label=_("Why is it void?"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example “logged twice” or “wrong country”. Staff see it, and can restore the engagement."),
    )  # fmt: skip


class FollowUpRowForm(forms.Form):
    """One follow-up row of the engagement form; a row left blank is ignored."""

    description = forms.CharField(label=_("What to do"), required=False, max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    due_on = RecordDateField(label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

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

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from countries.models import Health
from countries.regions import Region
from infrastructure.models import Facility
from tracks.models import Stage, Track

from .selectors import AttentionReason, MatrixFilters, liaison_choices

ORDER_CHOICES = [
    ("name", _("Name")),
    ("-readiness", _("Readiness")),
    ("region", _("Region")),
    ("-last_engagement", _("Last engagement")),
]
EARLIEST = datetime.date(2000, 1, 1)


class DashboardFilterForm(forms.Form):
    """The filters above the dashboards. An invalid value is reported and ignored; the valid ones apply."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    track = forms.ChoiceField(label=_("Track"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    health = forms.ChoiceField(label=_("Health"), required=False)
    liaison = forms.ModelChoiceField(label=_("Liaison"), queryset=None, required=False, empty_label=_("Any liaison"))
    order = forms.ChoiceField(label=_("Sort by"), choices=ORDER_CHOICES, required=False)
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Any reason")), *AttentionReason.CHOICES]
    )  # needs attention only
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for today; a past date rebuilds the picture from the stage history."),
    )  # fmt: skip

    def __init__(self, *args, tracks=None, **kwargs):
        super().__init__(*args, **kwargs)
        tracks = tracks if tracks is not None else list(Track.objects.filter(is_active=True).order_by("position"))
        self.fields["region"].choices = [("", _("All regions")), *Region.choices]
        self.fields["track"].choices = [("", _("All tracks")), *((t.key, t.name) for t in tracks)]
        stages = {}
        for stage in Stage.objects.filter(track__in=tracks).order_by("kind", "position"):
            stages.setdefault(stage.key, stage.name)
        self.fields["stage"].choices = [("", _("Any stage")), *stages.items()]
        self.fields["health"].choices = [("", _("Any health")), *Health.choices]
        self.fields["liaison"].queryset = liaison_choices()
        self.fields["liaison"].label_from_instance = lambda user: user.get_full_name() or user.get_username()

    def clean_as_of(self):
        day = self.cleaned_data.get("as_of")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("Choose today or a past date: the future has no history yet."))
        if day and day < EARLIEST:
            raise forms.ValidationError(_("The programme has no history before 2000."))
        return day

    def filters(self) -> MatrixFilters:
        """The valid filters (call after ``is_valid()``; invalid fields are left out)."""
        data = getattr(self, "cleaned_data", {})
        liaison = data.get("liaison")
        return MatrixFilters(
            region=data.get("region") or "",
            track=data.get("track") or "",
            stage=data.get("stage") or "",
            health=data.get("health") or "",
            liaison=liaison.pk if liaison else None,
            order=data.get("order") or "name",
            reason=data.get("reason") or "",
            as_of=data.get("as_of"),
        )


class FacilityFilterForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("All regions")), *Region.choices]
        self.fields["status"].choices = [("", _("Any status")), *Facility.Status.choices]

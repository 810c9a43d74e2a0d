from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import RecordDateField, VersionedForm
from core.limits import REASON_MAX_LENGTH


class NextStepForm(VersionedForm):
    """The next step of one track of a country, and its date (the service keeps the version check)."""

    next_step = forms.CharField(label=_("Next step"), required=False, max_length=300)
    next_step_due = RecordDateField(
        label=_("By"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, cell, **kwargs):
        super().__init__(*args, prefix=f"next-{cell.track.key}", **kwargs)
        self.fields["version"].initial = cell.version
        self.fields["next_step"].initial = cell.next_step
        self.fields["next_step_due"].initial = cell.next_step_due


class StageMoveForm(VersionedForm):
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
        label=_("Note"), required=False, max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to move back down the ladder or to re-open a withdrawn track."),
    )  # fmt: skip
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to pause or withdraw."),
    )  # fmt: skip
    resume_on = RecordDateField(
        label=_("Resume on"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Needed to pause.")
    )
    evidence = forms.ChoiceField(
        label=_("Evidence"), required=False,
        help_text=_("For a move: the engagement, agreement or announcement that shows it."),
    )  # fmt: skip

    def __init__(self, *args, cell, evidence_choices=(), **kwargs):
        """``evidence_choices``: grouped choices of "kind:id" values, built once for the country's cells."""
        super().__init__(*args, prefix=f"track-{cell.track.key}", **kwargs)
        self.fields["to_stage"].choices = [(stage.key, stage.name) for stage in cell.ladder]
        self.fields["to_stage"].initial = cell.ladder_stage.key
        self.fields["evidence"].choices = [("", _("None")), *evidence_choices]
        self.fields["version"].initial = cell.version

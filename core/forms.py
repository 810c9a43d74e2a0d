from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import limits
from .idempotency import OneTimeTokenForm
from .services import MAX_TOKEN_DAYS

STALE_PAGE = _("This page is out of date: reload it and try again.")


class VersionedForm(forms.Form):
    """An edit form that carries the version of the record the page showed, so a save after someone else's is
    refused by the service (``core.conflicts``) instead of undoing it."""

    # Not required, so a page rendered before versions existed still saves (the last write wins for it).
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1,
        error_messages={"invalid": STALE_PAGE, "min_value": STALE_PAGE},
    )  # fmt: skip

    def take_version(self, version: int) -> None:
        """After a conflict: keep what the user typed, but carry the version they have now been shown, so saving
        again applies their change to the current state (on purpose, having seen it)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(version)


class ApiTokenForm(OneTimeTokenForm):
    """Create an API token; sending the same input twice with the page's token creates one."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What will use it, for example “ministry dashboard”."))
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, initial=90, help_text=_("Between 1 and 366 days.")
    )


def add_service_errors(form, exc: ValidationError, field_map=None, rows=()) -> None:
    """Put a service's ValidationError on a form: next to its field when the form has one, else on top.

    ``field_map`` renames the service's fields to the form's; ``follow_ups.N.field`` (the shape services
    use for nested rows) goes to the N-th form of ``rows``.
    """
    field_map = field_map or {}
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in items:
        target = form
        if field and rows and field.count(".") == 2:
            _prefix, position, field = field.split(".", 2)
            target = rows[int(position)]
        else:
            field = field_map.get(field, field)
        for error in errors:
            target.add_error(field if field in target.fields else None, error)


def _in_record_range(day) -> None:
    if day is not None and not limits.EARLIEST_DATE <= day <= limits.LATEST_DATE:
        raise ValidationError(
            _("Give a date between %(earliest)s and %(latest)s."),
            code="out_of_range",
            params={"earliest": limits.EARLIEST_DATE.year, "latest": limits.LATEST_DATE.year},
        )


class RecordDateField(forms.DateField):
    """A date a record of the programme can carry (``core.limits``): the date picker offers no other, and a typed
    year 1 or 9999 is refused with a message."""

    default_validators = [_in_record_range]

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "min": limits.EARLIEST_DATE.isoformat(), "max": limits.LATEST_DATE.isoformat()}


class RecordDateTimeField(forms.DateTimeField):
    """A moment (an embargo) within the same years, read in the reader's time zone."""

    def validate(self, value):
        super().validate(value)
        _in_record_range(value.date() if value else None)

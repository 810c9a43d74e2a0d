from django import forms
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS
from .models import ImportJob, ImportRowResult


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("CSV (UTF-8 or Windows-1252, comma or semicolon) or XLSX; the first row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class MappingForm(forms.Form):
    """One choice per field of the kind: the sheet's column that holds it (guessed from the headers)."""

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        columns = [("", _("— not in the sheet —"))] + [
            (str(i), h or _("column %(n)d") % {"n": i + 1}) for i, h in enumerate(job.header)
        ]
        for f in KINDS[job.kind].fields:
            guessed = job.mapping.get(f.name)
            self.fields[f.name] = forms.ChoiceField(
                label=f.label, choices=columns, required=f.required, initial="" if guessed is None else str(guessed)
            )

    def mapping(self) -> dict:
        return {name: (int(value) if value != "" else None) for name, value in self.cleaned_data.items()}


class ResultFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Show"), required=False, choices=[("", _("Every row"))] + list(ImportRowResult.Action.choices)
    )

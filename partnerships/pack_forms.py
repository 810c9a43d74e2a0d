from django import forms
from django.utils.translation import gettext_lazy as _

from countries.regions import Region
from countries.selectors import grouping_list, programme_countries


class BriefingPackForm(forms.Form):
    """What a pack holds: the programme countries of a region, of a grouping, and of a selection, together."""

    region = forms.ChoiceField(label=_("Region"), required=False, choices=[("", _("No region"))] + list(Region.choices))
    grouping = forms.ModelChoiceField(label=_("Grouping"), required=False, queryset=None, empty_label=_("No grouping"))
    countries = forms.ModelMultipleChoiceField(
        label=_("Countries"),
        required=False,
        queryset=None,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (or ⌘ on a Mac) to choose several. A region, a grouping and countries can be combined."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grouping"].queryset = grouping_list()
        self.fields["countries"].queryset = programme_countries()

    def chosen(self) -> tuple[list, str]:
        """The countries asked for and a label that names where they came from."""
        data = self.cleaned_data
        ids, parts = set(), []
        if data.get("region"):
            ids |= set(programme_countries().filter(region=data["region"]).values_list("pk", flat=True))
            parts.append(str(Region(data["region"]).label))
        if data.get("grouping"):
            ids |= {c.pk for c in data["grouping"].countries.all()}
            parts.append(data["grouping"].name)
        selected = list(data.get("countries") or [])
        if selected:
            ids |= {c.pk for c in selected}
            parts.append(", ".join(c.iso2 for c in selected[:8]) + ("…" if len(selected) > 8 else ""))
        return list(programme_countries().filter(pk__in=ids)), " + ".join(parts)

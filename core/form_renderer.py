"""The portal's form renderer: Django's templates for every widget but the ``<select>``, written here in Python.

Django renders each option of a select through its own template include. The country page's stage-move forms
hold a select of up to 60 pieces of evidence per track, and the dashboards' filters a select of every region and
liaison: through the templates, the options cost more than the rest of those pages' forms (`make bench-dashboard`,
profiled). The markup written here is the templates' own, character for character
(``tests/core/test_form_renderer.py`` compares them); a widget with its own option template keeps the templates.
"""

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    """As ``django/forms/widgets/attrs.html``: a True value is a bare name, a False one is left out."""
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _label(value) -> str:
    """As ``{{ widget.label }}``: localised (a number or a date in the reader's format), then escaped."""
    return conditional_escape(value) if isinstance(value, str) else render_value_in_context(value, _CONTEXT)


_CONTEXT = Context(autoescape=True)


def _select(widget: dict) -> str:
    html = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{_label(group_name)}">')
        html.extend(
            f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_label(option['label'])}</option>\n"  # the option template ends with a line break
            for option in options
        )
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


class PortalFormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT else None
        if widget is not None and all(o["template_name"] == OPTION for _n, options, _i in widget["optgroups"] for o in options):
            return mark_safe(_select(widget))
        return super().render(template_name, context, request)

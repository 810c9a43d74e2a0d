"""Replacing what is erased about a person wherever the portal copied it: text and JSON columns.

``scrub(queryset, fields, replacements)`` finds the rows of ``queryset`` whose ``fields`` hold any of the strings
of ``replacements`` (case aside; a filter in the database first, so only those rows are read) and writes each
occurrence as its replacement, with ``update()``: no signal, so no new audit entry or event repeats what was erased.

A string is replaced where it stands as a whole (not inside a longer word: erasing "Ann" leaves "Annual" alone).
JSON is walked value by value (keys are field names, never personal data). On SQLite a JSON column stores
non-ASCII characters escaped (``\\u00e9``); the filter looks for both spellings.
"""

import json
import re

from django.db import models
from django.db.models import Q

TEXT_FIELDS = (models.CharField, models.TextField)


def _pattern(replacements: dict[str, str]):
    needles = sorted((n for n in replacements if n), key=len, reverse=True)
    if not needles:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in needles) + r")(?!\w)", re.IGNORECASE)


def replace_text(value: str, replacements: dict[str, str]) -> str:
    """``value`` with every whole occurrence of a key of ``replacements`` (case aside) written as its value."""
    pattern = _pattern(replacements)
    if pattern is None or not isinstance(value, str):
        return value
    lowered = {k.casefold(): v for k, v in replacements.items()}
    return pattern.sub(lambda m: lowered.get(m.group(0).casefold(), m.group(0)), value)


def replace_json(value, replacements: dict[str, str]):
    """The same, in every string value of a JSON document (lists, objects, nested)."""
    if isinstance(value, str):
        return replace_text(value, replacements)
    if isinstance(value, list):
        return [replace_json(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: replace_json(v, replacements) for k, v in value.items()}
    return value


def _matches(field, needles) -> Q:
    q = Q()
    for needle in needles:
        q |= Q(**{f"{field.name}__icontains": needle})
        if isinstance(field, models.JSONField):
            escaped = json.dumps(needle)[1:-1]  # how SQLite's JSON text spells it
            if escaped != needle:
                q |= Q(**{f"{field.name}__icontains": escaped})
    return q


def scrub(queryset, fields, replacements: dict[str, str]) -> int:
    """Replace ``replacements`` in ``fields`` (names of text or JSON fields) of the rows of ``queryset``; the number
    of rows changed."""
    replacements = {k: v for k, v in replacements.items() if k}
    if not replacements:
        return 0
    model = queryset.model
    model_fields = [model._meta.get_field(name) for name in fields]
    found = Q()
    for field in model_fields:
        found |= _matches(field, replacements)
    changed = 0
    for row in queryset.filter(found).only("pk", *fields).iterator(chunk_size=500):
        values = {}
        for field in model_fields:
            old = getattr(row, field.attname)
            new = replace_json(old, replacements) if isinstance(field, models.JSONField) else replace_text(old, replacements)
            if new != old:
                values[field.attname] = new
        if values:
            model._base_manager.filter(pk=row.pk).update(**values)
            changed += 1
    return changed


def text_fields(model, exclude=()) -> list[str]:
    """The names of the text and JSON columns of ``model``."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, (*TEXT_FIELDS, models.JSONField)) and not f.choices and f.name not in exclude
    ]

"""Apply field updates to a model instance, validate them, and describe what changed."""

import datetime
import decimal

from django.core.exceptions import ValidationError


def jsonable(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def apply_changes(instance, fields: dict, *, allowed, validate=None) -> dict:
    """Set ``fields`` on ``instance`` and validate it (``full_clean`` then ``validate(instance)``).

    Text is stripped, so a value of only spaces counts as empty. Returns ``{field: [before, after]}``
    for the fields that changed. If validation fails, the instance gets its previous values back
    before the error propagates, so a refused update leaves the caller's object as it was.
    """
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields for {type(instance).__name__}: {sorted(unknown)}")
    previous = {field: getattr(instance, field) for field in fields}
    changes = {}
    for field, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if previous[field] != value:
            changes[field] = [jsonable(previous[field]), jsonable(value)]
            setattr(instance, field, value)
    if not changes:
        return changes
    try:
        instance.full_clean()
        if validate is not None:
            validate(instance)
    except ValidationError:
        for field, value in previous.items():
            setattr(instance, field, value)
        raise
    return changes

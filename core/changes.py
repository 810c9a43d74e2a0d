"""Apply field updates to a model instance and describe what changed (for events and history)."""

import datetime
import decimal


def jsonable(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def apply_changes(instance, fields: dict, *, allowed) -> dict:
    """Set ``fields`` on ``instance``; return ``{field: [before, after]}`` for those that changed."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields for {type(instance).__name__}: {sorted(unknown)}")
    changes = {}
    for field, value in fields.items():
        before = getattr(instance, field)
        if before != value:
            changes[field] = [jsonable(before), jsonable(value)]
            setattr(instance, field, value)
    return changes

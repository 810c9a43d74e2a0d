from .policies import can_import


def imports(request):
    """Whether the main menu offers the import pages."""
    return {"can_import": can_import(getattr(request, "user", None))}

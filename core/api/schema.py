"""OpenAPI details: the token scheme, the If-Match / If-None-Match headers and the 412 answer, the Idempotency-Key
header of every POST and its 422 answer."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API token with the prefix `Token`, e.g. `Authorization: Token ppt_…`. "
            "Create one on the portal's API tokens page or with `manage.py create_api_token`.",
        }


class OneQueryManyRelatedFieldSchema(OpenApiSerializerFieldExtension):
    """A capped list of related rows (``core.api.fields``): the cap is the schema's ``maxItems``."""

    target_class = "core.api.fields.OneQueryManyRelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and not self.target.read_only:
            schema["maxItems"] = self.target.max_items
        return schema


class OneQueryListSerializerSchema(OpenApiSerializerFieldExtension):
    """A capped nested list (``core.api.fields.OneQueryListSerializer`` with ``max_length``): ``maxItems``."""

    target_class = "core.api.fields.OneQueryListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema


class Error412Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[("precondition_failed", "precondition_failed")])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse412Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("client_error", "client_error")])
    errors = Error412Serializer(many=True)


class Error422Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[("idempotency_key_reused", "idempotency_key_reused")])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse422Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error422Serializer(many=True)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any 1 to 255 printable ASCII characters, for example a UUID, new for each new request. The same key with "
        "the same request (method, path, body) within 24 hours is answered with the first (successful) answer, "
        "marked `Idempotent-Replayed: true`, and writes nothing more; with another request it is refused with 422. "
        "Keys are per user; a refused request keeps no key."
    ),
)


class GenericValidationErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="For example required, invalid, blank, max_length.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True, help_text="The field (dotted for nested ones), or non_field_errors.")


class GenericValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("validation_error", "validation_error"), ("client_error", "client_error")])
    errors = GenericValidationErrorSerializer(many=True)


class AutoSchema(StandardizedErrorsAutoSchema):
    """Documents conditional requests: If-None-Match (304) on reads of one object, If-Match (412) on its writes; and
    Idempotency-Key (422 on a key reused for another request) on every POST."""

    def _is_post_of_ours(self) -> bool:
        return self.method == "POST" and self.view.__class__.__module__.endswith("views")

    def _is_detail_write(self) -> bool:
        return self.method in ("PATCH", "PUT", "POST") and "{" in self.path and self.view.__class__.__module__.endswith("views")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        if self.method == "GET" and self._is_retrieve():
            responses.setdefault("304", {"description": "Not modified since the ETag sent in If-None-Match."})
        filtered_read = self.method == "GET" and getattr(self.view, "filterset_class", None) is not None
        if filtered_read and "400" in responses and not self._is_list_view():
            # A read that answers from its own cache (the bulk status) still validates its filters: any filter, any code.
            responses["400"] = self._get_response_for_code(GenericValidationErrorResponseSerializer, "400")
        # A write keeps its own 400 shape (its fields and their codes, from drf-standardized-errors), to which
        # core.api.schema_hooks.admit_service_rule_errors adds the refusals of its service's rules.
        return responses

    def _should_add_error_response(self, responses, status_code):
        if status_code == "412":
            return self._is_detail_write() and status_code not in responses
        if status_code == "422":
            return self._is_post_of_ours() and status_code not in responses
        return super()._should_add_error_response(responses, status_code)

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._is_post_of_ours():
            params.append(IDEMPOTENCY_KEY)
        if self._is_detail_write():
            params.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="The ETag you read; the change is refused with 412 if the object changed since.",
                )
            )
        elif self.method == "GET" and self._is_retrieve():
            params.append(
                OpenApiParameter(
                    "If-None-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="The ETag you read; answered with 304 and no body if nothing changed.",
                )
            )
        return params

    def _is_retrieve(self) -> bool:
        return getattr(self.view, "action", None) == "retrieve"

    def get_summary(self):
        """Every operation has a summary (Swagger UI and ReDoc list them; Redocly's ``operation-summary`` rule):
        the one given with ``extend_schema(summary=...)``, else one made from the viewset's action and model, else
        the first line of the view's docstring."""
        summary = super().get_summary()
        if summary:
            return summary
        action = getattr(self.view, "action", None)
        queryset = getattr(self.view, "queryset", None)
        model = getattr(queryset, "model", None)
        if model is None and hasattr(self.view, "get_queryset"):
            try:
                model = self.view.get_queryset().model
            except Exception:  # a view whose queryset needs a request: fall back to its docstring
                model = None
        if action and model is not None:
            one, many = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
            article = "an" if one[:1].lower() in "aeiou" else "a"
            standard = {
                "list": f"List {many}",
                "retrieve": f"Read one {one}",
                "create": f"Create {article} {one}",
                "partial_update": f"Update {article} {one}",
                "update": f"Replace {article} {one}",
                "destroy": f"Delete {article} {one}",
            }
            if action in standard:
                return standard[action]
            method = getattr(self.view, action, None)
            doc = (getattr(method, "__doc__", None) or "").strip()
            if doc:
                return doc.splitlines()[0].split(": ")[0].split(" (")[0].rstrip(".")
            return f"{action.replace('_', ' ').capitalize()} {article} {one}"
        doc = (self.view.__class__.__doc__ or "").strip()
        return doc.splitlines()[0].rstrip(".") if doc else None

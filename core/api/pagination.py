from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """``?limit=&offset=``; the limit is capped, so a huge page size cannot take the server down."""

    default_limit = 50
    max_limit = 500

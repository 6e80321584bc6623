from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Cursor pages in a stable order (newest id first): no page overlaps or skips rows while new rows
    arrive, and a page costs the same however deep it is."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # A forged cursor's position goes into `id < position`: anything but an id is a bad cursor, not
        # a database error.
        if cursor is not None and cursor.position is not None and not str(cursor.position).isdigit():
            raise NotFound(self.invalid_cursor_message)
        return cursor

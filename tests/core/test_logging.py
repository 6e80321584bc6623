import json
import logging

from apps.core.logging import JsonFormatter, RequestIdFilter, request_id_var


def test_log_lines_are_json_with_extra_fields_and_request_id():
    record = logging.makeLogRecord(
        {"name": "cxm.test", "levelname": "INFO", "msg": "hello %s", "args": ("world",), "channel_id": 7}
    )
    token = request_id_var.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "hello world" and line["channel_id"] == 7 and line["request_id"] == "req-1"

"""Schemathesis hooks for the Lambda run of test_schema.py (loaded through SCHEMATHESIS_HOOKS).

`cargo lambda watch` puts a request body with a JSON or text `Content-Type` into the event as a
string, and answers 500 itself, without invoking the function, when those bytes are not UTF-8.
Such a request says nothing about the function (the core answers it 400 `invalid_json`, which
the Worker run checks), so it is not sent through the emulator.
"""

import schemathesis


def _sent_as_text(media_type):
    """What the emulator decodes as UTF-8: no `Content-Type`, `text/*` or `application/json*`."""
    return media_type is None or media_type.startswith(("text/", "application/json"))


@schemathesis.hook
def filter_case(context, case):
    body = case.body
    if isinstance(body, (bytes, bytearray)) and _sent_as_text(case.media_type):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True

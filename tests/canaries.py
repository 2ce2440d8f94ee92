"""The suite's canary secrets, in one place.

Tests that need an API key or a bearer token use these, so the suite-wide watch in
``tests/conftest.py`` knows what must never reach a client or a log line. A test that hands a
secret to something on purpose (the log redactor, a mock API echoing a key back) keeps its own
value, because there the secret appearing is the input, not a leak.
"""

API_KEY = "avk-canary-7f3a9c1e5b2d4086-do-not-log"
BEARER_TOKEN = "bearer-canary-0b5e2d71-never-show"

ALL = (API_KEY, BEARER_TOKEN)

"""What the console's longer pages show, built from data already loaded: no session, no request.

Each module holds one page's view model (frozen dataclasses) and the pure function that builds it
from rows, the reader's translator, locale and permissions, and "now" or "today" passed in. The
route loads (storage), builds (here) and renders; the builders are tested without HTTP.
"""

"""``kaokore web``: the face database in a browser (extra ``web``).

Faceted faces, a face in its page with its history, works in page order, charts, a board
exported as a IIIF curation, releases and their differences, and a JSON API, all read-only
and all through the query layer (:mod:`kaokore.query`). Build the app with
:func:`create_app`; ``kaokore web`` serves it with uvicorn.
"""

from kaokore.web.app import create_app
from kaokore.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]

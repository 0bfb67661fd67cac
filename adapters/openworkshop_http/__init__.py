"""The HTTP adapter: the JSON API of the original Open Workshop API, on Starlette, over a
``Workshop``.

``create_app(workshop, settings)`` (an :class:`HttpSettings`) gives the ASGI application;
``openworkshop serve`` (see ``cli.py``) runs it with SQLite storage, archives on disk and the real Steam.
"""

from openworkshop_http.app import create_app
from openworkshop_http.openapi import openapi_document
from openworkshop_http.settings import HttpSettings

__all__ = ["HttpSettings", "create_app", "openapi_document"]

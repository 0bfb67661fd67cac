"""The launcher client's settings: which server its commands talk to."""

from __future__ import annotations

import attrs

from openworkshop.settings import setting

__all__ = ["ClientSettings"]


@attrs.frozen(kw_only=True)
class ClientSettings:
    """The server the `install`, `update`, `remove` and `status` commands use."""

    server_url: str = setting(
        env="OPENWORKSHOP_URL",
        default="http://127.0.0.1:8000",
        help="The Open Workshop server of the client's commands (docs/client.md); their "
        "`--server` flag overrides it. The server itself does not read it.",
    )

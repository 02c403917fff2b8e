"""Keep secrets in RPC URLs out of output, logs and result files."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["redact_url"]


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` plus ``/…`` when the URL had a path, query or credentials.

    Providers put API keys in the path (``/v2/KEY``), the query (``?apikey=KEY``) or the
    user-info part; none of them survives. An unparsable URL becomes ``<rpc-url>``.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<rpc-url>"
    if not parts.scheme or not host:
        return "<rpc-url>"
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password
    return shown + ("/…" if hidden else "")

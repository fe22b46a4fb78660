"""One TLS context for the IBM Cloud SDK's adapters while a fake is active.

`ibm_cloud_sdk_core`'s `SSLHTTPAdapter` loads the whole CA bundle into a new SSL context for
every adapter it makes: twice per `QiskitRuntimeService()`, about two thirds of building one.
Requests to IBM hosts are answered in process and never use TLS, so while a fake is active the
adapters share the context the SDK itself built for the first of them.
"""

from __future__ import annotations

from typing import Any

import pytest
from ibm_cloud_sdk_core.http_adapter import SSLHTTPAdapter
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter

#: verification disabled? -> the context the SDK built, kept for the process.
_CONTEXTS: dict[bool, Any] = {}
_ORIGINAL = SSLHTTPAdapter.init_poolmanager


def _init_poolmanager(adapter, connections, maxsize, block=DEFAULT_POOLBLOCK, **pool_kwargs):
    key = bool(adapter._disable_ssl_verification)
    context = _CONTEXTS.get(key)
    if context is None:
        _ORIGINAL(adapter, connections, maxsize, block, **pool_kwargs)
        _CONTEXTS[key] = adapter.poolmanager.connection_pool_kw["ssl_context"]
        return
    HTTPAdapter.init_poolmanager(adapter, connections, maxsize, block, ssl_context=context, **pool_kwargs)


def share_sdk_tls_context(patches: pytest.MonkeyPatch) -> None:
    """Install the shared context for as long as `patches` is not undone."""
    patches.setattr(SSLHTTPAdapter, "init_poolmanager", _init_poolmanager)

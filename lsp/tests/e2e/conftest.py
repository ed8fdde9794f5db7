"""Fixtures of the end-to-end tests: the real `tailpolicy lsp` over stdio, driven by
pytest-lsp (a third-party client). TAILPOLICY_BIN names the binary."""

import os
import pathlib

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = os.environ.get("TAILPOLICY_BIN", str(ROOT / "target" / "debug" / "tailpolicy"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=(ROOT / "testdata").as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()

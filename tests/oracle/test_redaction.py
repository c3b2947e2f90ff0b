"""RPC URLs never show their credentials: redaction, and the errors of a bad endpoint."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from oracle import chain as chains
from oracle.daemon import endpoint
from oracle.daemon.config import load_config
from oracle.errors import ChainConnectionError
from oracle.redaction import redact, redact_url, scrub, secret_parts

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://mainnet.infura.io/v3/{KEY}", "https://mainnet.infura.io/***"),
        (f"https://eth.example.org/rpc?apikey={KEY}", "https://eth.example.org/***?***"),
        (f"https://user:{KEY}@node.example.org:8545", "https://***@node.example.org:8545"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545/"),
        ("not a url", "***"),
    ],
)
def test_redact_url_keeps_scheme_host_and_port_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert KEY not in redact_url(url)


def test_scrub_removes_every_secret_part_from_a_message() -> None:
    url = f"https://user:pw-{KEY}@node.example.org/v3/{KEY}?token={KEY}"
    assert set(secret_parts(url)) == {f"user:pw-{KEY}", f"/v3/{KEY}", f"token={KEY}"}
    message = f"HTTPSConnectionPool(host='node.example.org'): Max retries with url: /v3/{KEY}"
    assert KEY not in scrub(message, url) and "node.example.org" in scrub(message, url)
    assert scrub(f"failed: {url}", url) == "failed: https://***@node.example.org/***?***"


def test_a_bad_endpoint_is_named_without_its_key() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v3/{KEY}?apikey={KEY}"
    with pytest.raises(
        ChainConnectionError, match=rf"cannot reach http://127\.0\.0\.1:{port}/\*\*\*"
    ) as info:
        chains.connect(url, signer=None)
    assert KEY not in str(info.value)
    with pytest.raises(ChainConnectionError, match="unsupported RPC URL") as info:
        chains.connect(f"wss://node.example.org/{KEY}")
    assert KEY not in str(info.value)


def test_the_daemon_names_its_endpoint_without_the_key_in_errors_and_logs(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v3/{KEY}"
    (tmp_path / "oracle.toml").write_text(
        f'[chain]\nurl = "{url}"\nchain_id = 1\n[hub]\naddress = "0x{"11" * 20}"\n'
        '[account]\nkey_env = "K"\n'
    )
    config = load_config(tmp_path / "oracle.toml")
    with pytest.raises(ChainConnectionError) as info:
        endpoint.connect(config)
    assert KEY not in str(info.value) and f"127.0.0.1:{port}/***" in str(info.value)
    # From then on every log line is scrubbed of the URL's path (where the key is).
    assert KEY not in redact(f"eth_call failed: POST {url}")

"""Where phones on the same network can reach this machine."""

from __future__ import annotations

import contextlib
import ipaddress
import socket


def lan_addresses() -> list[str]:
    """This machine's own network addresses, for phones on the same network."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    # Many machines name themselves 127.0.1.1, so also ask which address a packet to another
    # network would leave from. Connecting a UDP socket sends nothing.
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.254.254.254", 1))
        found.add(probe.getsockname()[0])
    return sorted(
        address
        for address in found
        if not (ipaddress.ip_address(address).is_loopback or address == "0.0.0.0")
    )


def reachable_from_phones(host: str) -> list[str]:
    """The addresses a server listening on `host` can be reached at from another device."""
    if host in ("0.0.0.0", ""):
        return lan_addresses()
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return []
    return [host]

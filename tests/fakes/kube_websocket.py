"""The server side of the exec WebSocket (RFC 6455 subset + the v4/v5 channel protocol).

Enough of the protocol for ``kubernetes.stream.stream(connect_get_namespaced_pod_exec, ...)``:
the handshake with subprotocol choice, unmasked binary frames whose first byte is the
channel (1 stdout, 2 stderr, 3 status), a close frame, and reading the client's masked
frames (stdin on channel 0, v5's ``[255, 0]`` close of stdin, the client's close frame).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE_CHANNEL = 0, 1, 2, 3, 4, 255


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def choose_protocol(offered: str, supported: tuple[str, ...]) -> str | None:
    """The first protocol the server supports, in the server's order of preference."""
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    for protocol in supported:
        if protocol in wanted:
            return protocol
    return None


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def channel_frame(channel: int, data: bytes) -> bytes:
    return frame(OP_BINARY, bytes([channel]) + data)


def close_frame(code: int = 1000) -> bytes:
    return frame(OP_CLOSE, struct.pack("!H", code))


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client closed the connection")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One client frame (masked, as RFC 6455 requires of clients): (opcode, payload)."""
    first, second = _read_exact(sock, 2)
    opcode = first & 0x0F
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _read_exact(sock, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _read_exact(sock, 8))[0]
    mask = _read_exact(sock, 4) if second & 0x80 else b""
    payload = _read_exact(sock, size)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


def read_stdin(sock: socket.socket, protocol: str, timeout_s: float) -> bytes:
    """Collect stdin frames until the client closes stdin (v5) or the connection, or goes quiet."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while True:
            opcode, payload = read_frame(sock)
            if opcode == OP_CLOSE:
                break
            if opcode != OP_BINARY or not payload:
                continue
            if payload[0] == STDIN:
                data += payload[1:]
            elif payload[0] == CLOSE_CHANNEL and payload[1:2] == bytes([STDIN]):
                break
    except (TimeoutError, ConnectionError, OSError):
        pass
    return data


def drain_until_close(sock: socket.socket, timeout_s: float) -> None:
    """Tolerate whatever the client sends after our close frame (its own close, mostly)."""
    sock.settimeout(timeout_s)
    try:
        while True:
            opcode, _ = read_frame(sock)
            if opcode == OP_CLOSE:
                return
    except (TimeoutError, ConnectionError, OSError, ValueError):
        return

#!/usr/bin/python3
"""A Python WebSocket peer for weir's interop matrix, on the websockets library
(Debian's python3-websockets: run it with /usr/bin/python3).

    peer.py server    listen on 127.0.0.1:0
    peer.py client    dial what stdin asks for

Same JSON-lines protocol and echo agent as ../node/peer.js and ../agent.js (see
../../doc.go): the server prints {"event":"listening","port":N} and one report per
connection when it ends; the client prints {"event":"ready"}, reads commands
{"id","url","protocols","version"} and prints one report per command.

With WEIR_TLS_CERT and WEIR_TLS_KEY set (PEM files), the server listens over TLS
(an ssl.SSLContext with that certificate: wss://, for weir's client in
../../tls_matrix_test.go); without them it is plain as always.
"""

import asyncio
import json
import os
import ssl
import sys
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

SUPPORTED = ["weir.v2", "weir.v3"]  # a server's subprotocols, in preference order
MAX = 64 << 20  # message limit: above the matrix's 8 MiB payloads
REJECT_REASON = "peer says no"
LIB = "websockets " + websockets.__version__
OPTS = dict(max_size=MAX, max_queue=None, ping_interval=None, close_timeout=5)


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def new_report(ident):
    return {"event": "report", "id": ident, "lib": LIB, "open": False, "status": 0,
            "statusReason": "", "subprotocol": "", "version": 0, "close": None, "error": ""}


def chunks(data, n):
    """Fragments for send(): str is cut by characters, bytes by bytes (websockets
    encodes each str fragment on its own, so a text fragment ends on a character)."""
    return [data[i:i + n] for i in range(0, len(data), n)] or [data]


async def agent(ws, rep):
    """The echo agent of ../agent.js: echo data messages, obey "@@" commands."""
    rep["open"] = True
    rep["subprotocol"] = ws.subprotocol or ""
    rep["version"] = 13
    frag = 0
    pings = set()

    async def await_pong(payload, waiter):
        try:
            await waiter
            await ws.send("@@pong " + payload)
        except ConnectionClosed:
            pass

    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("@@"):
                verb, _, arg = msg.partition(" ")
                if verb == "@@close":
                    code, _, reason = arg.partition(" ")
                    await ws.close(int(code), reason)
                elif verb == "@@ping":
                    waiter = await ws.ping(arg)
                    task = asyncio.ensure_future(await_pong(arg, waiter))
                    pings.add(task)
                    task.add_done_callback(pings.discard)
                elif verb == "@@frag":
                    frag = int(arg)
                    await ws.send("@@ok frag %d" % frag)
                elif verb == "@@info":
                    await ws.send("@@info " + json.dumps({"lib": LIB, "subprotocol": ws.subprotocol or "", "version": 13}))
                else:
                    await ws.send("@@unsupported %s: unknown command" % verb)
            elif frag > 0 and len(msg) > frag:
                await ws.send(chunks(msg, frag))
            else:
                await ws.send(msg)
    except ConnectionClosed:
        pass
    except Exception as e:  # report, do not hide
        rep["error"] = repr(e)
    await ws.wait_closed()
    rep["close"] = {"code": ws.close_code or 0, "reason": ws.close_reason or ""}


def server_tls():
    """The server's SSLContext in TLS mode, else None (plain)."""
    cert, key = os.environ.get("WEIR_TLS_CERT"), os.environ.get("WEIR_TLS_KEY")
    if not cert or not key:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def select_subprotocol(client, server):
    for p in server:
        if p in client:
            return p
    return None


async def serve():
    def process_request(path, headers):
        if urlsplit(path).path == "/reject":
            return (HTTPStatus.FORBIDDEN, [("X-WebSocket-Reject-Reason", REJECT_REASON)], REJECT_REASON.encode())
        return None

    async def handler(ws, path=None):
        q = parse_qs(urlsplit(ws.path).query)
        rep = new_report(q.get("id", [""])[0])
        await agent(ws, rep)
        out(rep)

    server = await websockets.serve(handler, "127.0.0.1", 0, subprotocols=SUPPORTED,
                                    select_subprotocol=select_subprotocol,
                                    process_request=process_request, ssl=server_tls(), **OPTS)
    port = server.sockets[0].getsockname()[1]
    out({"event": "listening", "port": port})
    # Run until the driver closes stdin.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


async def client_one(cmd):
    rep = new_report(cmd["id"])
    if cmd.get("version", 13) not in (0, 13):
        rep["error"] = "websockets speaks only version 13"
        out(rep)
        return
    try:
        ws = await websockets.connect(cmd["url"], subprotocols=cmd.get("protocols") or None,
                                      open_timeout=10, **OPTS)
    except InvalidStatusCode as e:
        rep["status"] = e.status_code
        rep["statusReason"] = e.headers.get("X-WebSocket-Reject-Reason", "")
        out(rep)
        return
    except Exception as e:
        rep["error"] = repr(e)
        out(rep)
        return
    await agent(ws, rep)
    out(rep)


async def client():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out({"event": "ready"})
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.strip():
            t = asyncio.ensure_future(client_one(json.loads(line)))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=10)


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("server", "client"):
        sys.stderr.write("usage: peer.py server|client\n")
        sys.exit(2)
    asyncio.run(serve() if sys.argv[1] == "server" else client())


if __name__ == "__main__":
    main()

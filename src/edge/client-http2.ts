// HTTP/2 for clients, on the edge's one TLS listener. Node's https.Server speaks HTTP/1 only, and
// http2.createSecureServer({ allowHTTP1 }) fails the handshake of a client that offers ALPN
// "http/1.0" alone (curl --http1.0), which the edge serves as nginx does. So the edge keeps its
// https.Server, offers h2 first in ALPN, and hands each connection that chose h2 to an HTTP/2
// server of its own that never listens: its requests go through the same handler, by Node's
// compatibility API (Http2ServerRequest / Http2ServerResponse).
import { createServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** Idle sessions are closed after this, as HTTP/1 connections are after the keep-alive timeout. */
const IDLE_TIMEOUT_MS = 65_000;

export interface ClientHttp2 {
  /**
   * Sends every session GOAWAY: streams in flight get up to graceMs to finish, new ones go to a
   * new connection (which the closed listener refuses), and what is left is then cut.
   */
  close(graceMs: number): Promise<void>;
}

export interface ClientHttp2Options {
  /**
   * Takes the extended CONNECT streams that open a WebSocket (RFC 8441); without it the edge
   * does not offer them, and browsers open their WebSockets on HTTP/1.1 connections.
   */
  readonly websocket?: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
}

export function serveHttp2(https: HttpsServer, handle: (req: IncomingMessage, res: ServerResponse) => void, options: ClientHttp2Options): ClientHttp2 {
  const h2 = createServer(
    {
      // nginx's default; Node's own is 2^32 - 1 streams at once per connection.
      settings: { maxConcurrentStreams: 128, enableConnectProtocol: options.websocket !== undefined },
      // As many header lines as Node's HTTP/1 server takes (its HTTP/2 default is 128).
      maxHeaderListPairs: 2000,
    },
    (req: Http2ServerRequest, res: Http2ServerResponse) => {
      // A stream the client resets (RST_STREAM) is only 'aborted': Node keeps it open until its
      // answer is ended, so the response would never 'close' and the origin would go on sending.
      req.once('aborted', () => res.destroy());
      handle(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    },
  );
  // The edge is no forward proxy, over HTTP/2 either (Node would answer 405): the only CONNECT
  // it takes is the extended one for a WebSocket.
  h2.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (options.websocket && req.headers[':protocol'] === 'websocket') return options.websocket(req, res);
    res.writeHead(501, { 'content-length': '0' });
    res.end();
  });
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setTimeout(IDLE_TIMEOUT_MS, () => session.close());
  });

  // https.Server's HTTP/1 handling is the one 'secureConnection' listener it was built with.
  const [http1] = https.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
  if (!http1) throw new Error('https.Server has no connection listener to share its port with HTTP/2');
  https.removeListener('secureConnection', http1);
  https.prependListener('secureConnection', function (this: HttpsServer, socket: TLSSocket) {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else http1.call(this, socket);
  });

  return {
    close(graceMs) {
      const open = [...sessions];
      if (graceMs <= 0 || open.length === 0) {
        for (const session of open) session.destroy();
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        let left = open.length;
        const deadline = setTimeout(() => {
          for (const session of open) session.destroy();
        }, graceMs);
        for (const session of open) {
          session.once('close', () => {
            if (--left > 0) return;
            clearTimeout(deadline);
            resolve();
          });
          session.close();
        }
      });
    },
  };
}

import { once } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes an HTTP server without waiting on connections that carry no request. server.close()
 * alone ends only keep-alive connections that have served a request: a connection opened and
 * never used (a browser's preconnect, a load balancer's spare) or one mid-way through its
 * headers held shutdown for the whole grace period. Requests in flight still get `graceMs`;
 * each answers with `Connection: close` when it can, and its connection ends once it is done.
 */
export interface GracefulClose {
  close(graceMs: number): Promise<void>;
}

/** Call right after listen(): it must see every connection from the first one. */
export function trackConnections(server: Server): GracefulClose {
  const sockets = new Set<Socket>();
  const inFlight = new Map<Socket, Set<ServerResponse>>();
  let closing = false;

  const finishConnection = (socket: Socket) => {
    if (closing && !inFlight.has(socket)) socket.end();
  };
  const noReuse = (response: ServerResponse) => {
    if (!response.headersSent) response.setHeader('Connection', 'close');
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      inFlight.delete(socket);
    });
  });
  server.on('request', (request, response: ServerResponse) => {
    const socket = request.socket;
    const responses = inFlight.get(socket) ?? new Set<ServerResponse>();
    responses.add(response);
    inFlight.set(socket, responses);
    if (closing) noReuse(response);
    response.once('close', () => {
      responses.delete(response);
      if (responses.size === 0) inFlight.delete(socket);
      finishConnection(socket);
    });
  });

  return {
    async close(graceMs: number): Promise<void> {
      closing = true;
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) {
        const responses = inFlight.get(socket);
        if (responses) responses.forEach(noReuse);
        else socket.destroy();
      }
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

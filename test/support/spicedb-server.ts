import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from './database.ts';
import { startTestService } from './test-service.ts';

/** Where scripts/tools.sh puts the spicedb binary. */
export const SPICEDB_BINARY = path.join(
  process.env.TENANT_AUTHZ_TOOLS ?? path.join(homedir(), '.cache', 'tenant-authz', 'bin'),
  'spicedb',
);

/** Fault tests need a SpiceDB they can cut off: a real `spicedb serve`, which `bash scripts/tools.sh spicedb` builds. */
export const canRunSpiceDbServer = existsSync(SPICEDB_BINARY);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`spicedb exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`spicedb did not listen on ${port}`);
}

export interface SpiceDbServer {
  endpoint: string;
  presharedKey: string;
  stop(): Promise<void>;
}

/**
 * A real `spicedb serve`, private to one test file: on its memory datastore, or with `postgres`
 * on a fresh database of the suite's Postgres, as production runs it (where `minimize_latency`
 * shows revisions seconds old, which the memory datastore hides).
 */
export async function startSpiceDbServer(options: { datastore?: 'memory' | 'postgres' } = {}): Promise<SpiceDbServer> {
  const port = await freePort();
  const presharedKey = `test-key-${port}`;
  const datastore = options.datastore === 'postgres' ? await createTestDatabase() : undefined;
  if (datastore) {
    await promisify(execFile)(SPICEDB_BINARY, [
      'datastore', 'migrate', 'head',
      '--datastore-engine', 'postgres',
      '--datastore-conn-uri', datastore.url,
      '--skip-release-check=true',
      '--log-level', 'error',
    ]);
  }
  const child = spawn(
    SPICEDB_BINARY,
    [
      'serve',
      '--grpc-preshared-key', presharedKey,
      // A Postgres datastore opens 30 connections at once by default; the suite bounds its own
      // (scripts/test.ts), so a test's server keeps a few.
      ...(datastore
        ? [
            '--datastore-engine', 'postgres', '--datastore-conn-uri', datastore.url,
            '--datastore-conn-pool-read-max-open', '4', '--datastore-conn-pool-read-min-open', '1',
            '--datastore-conn-pool-write-max-open', '2', '--datastore-conn-pool-write-min-open', '1',
          ]
        : ['--datastore-engine', 'memory']),
      '--grpc-addr', `127.0.0.1:${port}`,
      '--http-enabled=false',
      '--metrics-enabled=false',
      '--dispatch-cluster-enabled=false',
      '--skip-release-check=true',
      '--log-level', 'error',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, child);
  return {
    endpoint: `127.0.0.1:${port}`,
    presharedKey,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await datastore?.drop();
    },
  };
}

/**
 * A TCP proxy in front of a server (SpiceDB or Postgres), to cut the service off from it and back:
 * `disconnect()` closes every connection and refuses new ones; `reconnect()` listens again on the
 * same port; `delayMs` slows every chunk down.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Milliseconds every chunk waits before it is forwarded, to stage a slow server. */
  delayMs = 0;

  readonly port: number;
  private readonly target: { host: string; port: number };

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.target = target;
  }

  static async inFrontOf(endpoint: string): Promise<TcpProxy> {
    const [host = '127.0.0.1', port = '0'] = endpoint.split(':');
    const proxy = new TcpProxy(await freePort(), { host, port: Number(port) });
    await proxy.reconnect();
    return proxy;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async reconnect(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk) => {
      if (this.delayMs === 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), this.delayMs);
    });
    // The end is delayed like the data, so bytes already sent still arrive after a sender dies.
    from.on('end', () => (this.delayMs === 0 ? to.end() : setTimeout(() => to.end(), this.delayMs)));
  }

  async disconnect(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

/** The service on a private `spicedb serve` reached through a TcpProxy, for fault tests. */
export async function startServiceBehindProxy(environment: Record<string, string>) {
  const spicedb = await startSpiceDbServer();
  const proxy = await TcpProxy.inFrontOf(spicedb.endpoint);
  const service = await startTestService({
    environment: {
      SPICEDB_ENDPOINT: proxy.endpoint,
      SPICEDB_PRESHARED_KEY: spicedb.presharedKey,
      SPICEDB_INSECURE: 'true',
      ...environment,
    },
  });
  return {
    service,
    proxy,
    async stop() {
      await service.stop();
      await proxy.disconnect();
      await spicedb.stop();
    },
  };
}

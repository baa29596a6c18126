import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a change came from, as the audit log records it. Plain data: services never see Koa. */
export interface RequestMetadata {
  requestId: string | null;
  clientAddress: string | null;
  userAgent: string | null;
}

const USER_AGENT_MAX = 256;
const storage = new AsyncLocalStorage<RequestMetadata>();

/** Runs `work` with the request's metadata visible to every audit write it makes. */
export function withRequestMetadata<T>(metadata: RequestMetadata, work: () => Promise<T>): Promise<T> {
  return storage.run({ ...metadata, userAgent: metadata.userAgent?.slice(0, USER_AGENT_MAX) || null }, work);
}

/** The current request's metadata; all null outside a request (the CLI, a script). */
export function currentRequestMetadata(): RequestMetadata {
  return storage.getStore() ?? { requestId: null, clientAddress: null, userAgent: null };
}

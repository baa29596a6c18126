import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Webhook URLs reach only the public internet unless WEBHOOK_ALLOW_PRIVATE_URLS says otherwise:
 * never loopback, private (RFC 1918, unique-local), link-local (the cloud metadata address),
 * carrier-grade NAT, multicast or reserved addresses, also when written as an IPv4-mapped IPv6
 * address. A name is checked when the endpoint is registered and again on every connection, on
 * the very address connected to, so a name that resolves elsewhere later (DNS rebinding) gains
 * nothing.
 */

export class RefusedAddress extends Error {
  override name = 'RefusedAddress';
}

/** Only global unicast addresses are public; an unparsable one is not. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** Why the URL cannot be a webhook endpoint (before any address is looked at), or null. */
export function webhookUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  if (url.username || url.password) return 'must not carry credentials (user:password@); authenticate deliveries by their signature';
  if (url.hash) return 'must not have a #fragment';
  return null;
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Resolves the URL's host and refuses it if any address is not public (unless allowed). */
export async function assertPublicUrl(text: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(new URL(text));
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  const refused = addresses.find((address) => !isPublicAddress(address));
  if (refused !== undefined) throw new RefusedAddress(`${host} resolves to ${refused}, which is not a public address`);
}

async function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses: LookupAddress[]) => {
      if (error) reject(new RefusedAddress(`${host} could not be resolved (${error.code ?? error.message})`));
      else resolve(addresses.map((entry) => entry.address));
    });
  });
}

/**
 * The `lookup` of a delivery's connection: resolves as usual and refuses a private answer, so
 * the check and the connection use the same address. (An IP literal never reaches a lookup:
 * the sender checks it with assertPublicUrl first.)
 */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction | undefined {
  if (allowPrivate) return undefined;
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const refused = addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) {
        const refusal = Object.assign(new RefusedAddress(`${hostname} resolves to ${refused.address}, which is not a public address`), { code: 'EREFUSEDADDRESS' });
        return callback(refusal, '', 4);
      }
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
      return callback(null, first.address, first.family);
    });
  };
}

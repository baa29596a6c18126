import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A configured private key: PKCS#8 PEM, or a JWK (JSON). Throws when it is neither. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' }) : createPrivateKey(trimmed);
}

/** A public key, or the public half of a private one: PEM or JWK. Throws when it is neither. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' }) : createPublicKey(trimmed);
}

/**
 * Why `text` is not a private key of `keyType` (`ec` on P-256, `ed25519`), or undefined when it
 * is: one phrase, for a configuration error that names the variable.
 */
export function privateKeyProblem(text: string, keyType: 'ec' | 'ed25519', purpose: string): string | undefined {
  let key: KeyObject;
  try {
    key = parsePrivateKey(text);
  } catch {
    return 'must be a PKCS#8 PEM or JWK private key';
  }
  if (key.asymmetricKeyType !== keyType) return `is a ${key.asymmetricKeyType ?? 'symmetric'} key, which cannot sign ${purpose}`;
  if (keyType === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return `must be a P-256 key for ${purpose}`;
  return undefined;
}

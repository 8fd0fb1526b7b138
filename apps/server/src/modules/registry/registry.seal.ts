import type { SecretBox } from '../../platform/crypto.ts';
import { maskIdNumber, maskPhoneNumber } from './person-id.ts';

/**
 * How the registry stores an ID number or a phone: sealed (AES-256-GCM, `v1:<keyId>:…`), the key id, a keyed
 * lookup hash (HMAC-SHA256) for exact search and de-duplication, and the mask shown to staff. Shared by the
 * registry service and the demo seed, so a seeded resident is found by the same search as a registered one.
 */

/** Purposes of the keyed hashes: an ID number and a phone with the same digits hash differently. */
export const idPurpose = 'person.id';
export const phonePurpose = 'person.phone';

export interface SealedValue {
  cipher: string;
  keyId: string;
  hash: string;
  masked: string;
}

/**
 * A normalised ID number (see `normaliseIdNumber`), sealed, hashed and masked. `hash`: its lookup hash when the
 * caller already computed it (an import hashes every ID number first, to find duplicates).
 */
export function sealIdNumber(secrets: SecretBox, idNumber: string, hash?: string): SealedValue {
  return {
    cipher: secrets.encrypt(idNumber),
    keyId: secrets.keyId,
    hash: hash ?? secrets.lookupHash(idPurpose, idNumber),
    masked: maskIdNumber(idNumber),
  };
}

/** A normalised phone (see `normalisePhone`), sealed, hashed and masked. */
export function sealPhone(secrets: SecretBox, phone: string): SealedValue {
  return {
    cipher: secrets.encrypt(phone),
    keyId: secrets.keyId,
    hash: secrets.lookupHash(phonePurpose, phone),
    masked: maskPhoneNumber(phone),
  };
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Secrets at rest (phones of callers and anonymous reporters): AES-256-GCM, stored as
 * `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts). The key id names the key, so keys can rotate: new
 * values use the current key, old values still open with a previous one.
 */
export interface SecretBox {
  keyId: string;
  encrypt(plaintext: string): string;
  decrypt(sealed: string): string;
  /**
   * Keyed hash (HMAC-SHA256, hex) for exact lookup and de-duplication of a sealed value without opening it.
   * Its key is separate from the sealing keys and does not rotate with them, so stored hashes stay valid.
   * `purpose` separates domains (an ID number and a phone with equal digits hash differently).
   */
  lookupHash(purpose: string, value: string): string;
}

const keyFileName = 'secret.key';
const lookupKeyFileName = 'lookup.key';

/** A short, stable name for a key (not secret: a hash prefix). */
export function keyIdOf(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

function parseKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32)
    throw new Error(`${where} must be 32 bytes, base64 encoded (got ${key.length} bytes)`);
  return key;
}

/**
 * The current key: WANGGE_SECRET_KEY (base64, 32 bytes), else `<dataDir>/secret.key`, created with mode 0600 on
 * first use. WANGGE_SECRET_KEYS_PREVIOUS (comma-separated base64) keeps retired keys readable.
 */
export function loadSecretBox(options: { dataDir: string; env?: NodeJS.ProcessEnv }): SecretBox {
  const env = options.env ?? process.env;
  const current = env.WANGGE_SECRET_KEY
    ? parseKey(env.WANGGE_SECRET_KEY, 'WANGGE_SECRET_KEY')
    : keyFromFile(options.dataDir, keyFileName);
  // The lookup (HMAC) key: WANGGE_LOOKUP_KEY, else `<dataDir>/lookup.key` beside the secret key.
  const lookup = env.WANGGE_LOOKUP_KEY
    ? parseKey(env.WANGGE_LOOKUP_KEY, 'WANGGE_LOOKUP_KEY')
    : keyFromFile(options.dataDir, lookupKeyFileName);
  const previous = (env.WANGGE_SECRET_KEYS_PREVIOUS ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => parseKey(part, 'WANGGE_SECRET_KEYS_PREVIOUS'));
  return createSecretBox(current, previous, lookup);
}

/** A 32-byte key kept in a file of the data directory, created with mode 0600 on first use. */
function keyFromFile(dataDir: string, name: string): Buffer {
  const file = path.join(dataDir, name);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists: two processes starting at once never overwrite each other's key.
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parseKey(fs.readFileSync(file, 'utf8'), file);
}

/**
 * Without a lookup key of its own, one is derived from the current key (HKDF); callers that store lookup hashes
 * should pass a stable one (loadSecretBox does).
 */
export function createSecretBox(current: Buffer, previous: Buffer[] = [], lookupKey?: Buffer): SecretBox {
  const hmacKey =
    lookupKey ?? Buffer.from(crypto.hkdfSync('sha256', current, Buffer.alloc(0), 'wangge-lookup', 32));
  const keys = new Map<string, Buffer>();
  for (const key of [current, ...previous]) keys.set(keyIdOf(key), key);
  const keyId = keyIdOf(current);
  // Nonces come from a pool of CSPRNG bytes, refilled 4 KiB at a time, each byte used once: one call into the
  // generator per 341 values instead of one per value (bulk sealing, e.g. an import of 100,000 persons).
  const pool = Buffer.alloc(4092);
  let used = pool.length;
  const nonce = () => {
    if (used === pool.length) {
      crypto.randomFillSync(pool);
      used = 0;
    }
    used += 12;
    return pool.subarray(used - 12, used);
  };
  return {
    keyId,
    encrypt(plaintext) {
      const iv = nonce();
      const cipher = crypto.createCipheriv('aes-256-gcm', current, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', keyId, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(':');
    },
    decrypt(sealed) {
      const [version, id, iv, tag, body] = sealed.split(':');
      if (version !== 'v1' || !id || !iv || !tag || body === undefined)
        throw new Error('not a sealed secret (expected v1:<keyId>:<iv>:<tag>:<ciphertext>)');
      const key = keys.get(id);
      if (!key) throw new Error(`secret sealed with unknown key ${id}`);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    },
    lookupHash(purpose, value) {
      return crypto.createHmac('sha256', hmacKey).update(`${purpose}\u0000${value}`).digest('hex');
    },
  };
}

/** What staff may see of a phone: `138****5678` (first 3 and last 4 digits). */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '');
  if (digits.length <= 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretBox, keyIdOf, loadSecretBox, maskPhone } from './crypto.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-crypto-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('secret box (AES-256-GCM)', () => {
  it('seals as v1:<keyId>:<iv>:<tag>:<ciphertext> and opens again; each seal differs', () => {
    const box = createSecretBox(crypto.randomBytes(32));
    const a = box.encrypt('13812345678');
    const b = box.encrypt('13812345678');
    expect(a).toMatch(/^v1:[\w-]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a.split(':')[1]).toBe(box.keyId);
    expect(a).not.toBe(b);
    expect(a).not.toContain('13812345678');
    expect(box.decrypt(a)).toBe('13812345678');
  });

  it('refuses a tampered value and a value sealed with an unknown key', () => {
    const box = createSecretBox(crypto.randomBytes(32));
    const sealed = box.encrypt('13812345678').split(':');
    const body = Buffer.from(sealed[4]!, 'base64');
    body[0] = body[0]! ^ 1;
    sealed[4] = body.toString('base64');
    expect(() => box.decrypt(sealed.join(':'))).toThrow();
    const other = createSecretBox(crypto.randomBytes(32));
    expect(() => box.decrypt(other.encrypt('x'))).toThrow(/unknown key/);
  });

  it('rotates: new values use the current key, old values open with a previous key', () => {
    const oldKey = crypto.randomBytes(32);
    const newKey = crypto.randomBytes(32);
    const sealedOld = createSecretBox(oldKey).encrypt('0454-8881234');
    const env = {
      WANGGE_SECRET_KEY: newKey.toString('base64'),
      WANGGE_SECRET_KEYS_PREVIOUS: oldKey.toString('base64'),
    };
    const box = loadSecretBox({ dataDir: tempDir(), env });
    expect(box.keyId).toBe(keyIdOf(newKey));
    expect(box.decrypt(sealedOld)).toBe('0454-8881234');
    expect(box.encrypt('x').split(':')[1]).toBe(keyIdOf(newKey));
  });

  it('without WANGGE_SECRET_KEY creates <dataDir>/secret.key with mode 0600 once and reuses it', () => {
    const dir = tempDir();
    const first = loadSecretBox({ dataDir: dir, env: {} });
    const file = path.join(dir, 'secret.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadSecretBox({ dataDir: dir, env: {} });
    expect(second.keyId).toBe(first.keyId);
    expect(second.decrypt(first.encrypt('13800000000'))).toBe('13800000000');
  });

  it('refuses a key of the wrong length', () => {
    expect(() => loadSecretBox({ dataDir: tempDir(), env: { WANGGE_SECRET_KEY: 'c2hvcnQ=' } })).toThrow(
      /32 bytes/,
    );
  });
});

describe('lookup hash (keyed HMAC-SHA256)', () => {
  it('is stable across key rotation, keyed (not the plain SHA), and separates purposes', () => {
    const dir = tempDir();
    const oldKey = crypto.randomBytes(32).toString('base64');
    const newKey = crypto.randomBytes(32).toString('base64');
    const before = loadSecretBox({ dataDir: dir, env: { WANGGE_SECRET_KEY: oldKey } });
    const after = loadSecretBox({
      dataDir: dir,
      env: { WANGGE_SECRET_KEY: newKey, WANGGE_SECRET_KEYS_PREVIOUS: oldKey },
    });
    expect(after.keyId).not.toBe(before.keyId);
    const value = '11010519491231002X';
    expect(after.lookupHash('person.id', value)).toBe(before.lookupHash('person.id', value));
    expect(fs.statSync(path.join(dir, 'lookup.key')).mode & 0o777).toBe(0o600);
    expect(before.lookupHash('person.id', value)).not.toBe(before.lookupHash('person.phone', value));
    expect(before.lookupHash('person.id', value)).not.toBe(
      crypto.createHash('sha256').update(value).digest('hex'),
    );
    const elsewhere = loadSecretBox({ dataDir: tempDir(), env: { WANGGE_SECRET_KEY: oldKey } });
    expect(elsewhere.lookupHash('person.id', value)).not.toBe(before.lookupHash('person.id', value));
  });
});

describe('maskPhone', () => {
  it('keeps the first 3 and last 4 digits', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('138****5678');
    expect(maskPhone('0454-8881234')).toBe('045****1234');
  });
});

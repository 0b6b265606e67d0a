import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config';
import { CredentialVault } from './credential-vault';
import { dropPreviousKeysFromFile, KEY_FILE, loadKeyFile, prependKeyToFile } from './key-ring';

const ROW = '6f1c2b4e-9a55-4c1e-8d0b-2f7a1e3c5d9a';
const SECRET = { type: 'secret' as const, secret: 'super-secret-value' };

describe('CredentialVault', () => {
  it('seals with AES-256-GCM: the ciphertext does not contain the secret and opens only for its row', () => {
    const vault = new CredentialVault(loadConfig({ CORDON_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') }));
    const sealed = vault.seal(ROW, SECRET);
    expect(sealed.ciphertext.toString('latin1')).not.toContain('super-secret');
    expect(sealed.ciphertext.length).toBe(12 + JSON.stringify(SECRET).length + 16);
    expect(vault.open(ROW, sealed)).toEqual(SECRET);
    expect(() => vault.open('0b9e6f52-3c1d-4a7e-9f08-5e2d4c6b8a1f', sealed)).toThrow();
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[20] ^= 1;
    expect(() => vault.open(ROW, { ...sealed, ciphertext: tampered })).toThrow();
  });

  it('opens old ciphertexts with a previous key and seals new ones with the current', () => {
    const old = Buffer.alloc(32, 1).toString('base64');
    const sealedOld = new CredentialVault(loadConfig({ CORDON_ENCRYPTION_KEY: old })).seal(ROW, SECRET);
    const rotated = new CredentialVault(loadConfig({ CORDON_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'), CORDON_ENCRYPTION_PREVIOUS_KEYS: old }));
    expect(rotated.open(ROW, sealedOld)).toEqual(SECRET);
    expect(rotated.seal(ROW, SECRET).keyId).not.toBe(sealedOld.keyId);
    const withoutOld = new CredentialVault(loadConfig({ CORDON_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64') }));
    expect(() => withoutOld.open(ROW, sealedOld)).toThrow(/not configured/);
  });

  it('creates a key file with mode 0600 for the embedded default, and rotates it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-keys-'));
    const first = loadKeyFile(dir);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadKeyFile(dir).current.id).toBe(first.current.id);
    const rotated = prependKeyToFile(dir);
    expect(rotated.current.id).not.toBe(first.current.id);
    expect(rotated.previous.map((k) => k.id)).toEqual([first.current.id]);
    dropPreviousKeysFromFile(dir);
    expect(readFileSync(join(dir, KEY_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
  });
});

/**
 * CloudTrail log file integrity validation on local copies: digest chains built and signed here with a test RSA
 * key (the way CloudTrail signs them), then tampered with; public key forms and fingerprints checked on the AWS
 * documentation's list-public-keys examples; the public digest samples in ../shared/datasets/public parsed and
 * validated when present.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  integritySummaryAttributes,
  isPublicKeyList,
  parsePublicKeys,
  publicKeyFingerprint,
  publicKeyForm,
  signingString,
  toPkcs1,
  toSpki,
  validate,
  type LoadedDigest,
  type LoadedLogFile,
  type PublicKey,
} from '../../src/lib/analysis/integrity';
import { isDigest, type DigestDocument } from '../../src/lib/ingest/formats/digest';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// A signed digest chain

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS1 = publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer;
const SPKI = publicKey.export({ format: 'der', type: 'spki' }) as Buffer;
const FINGERPRINT = md5(PKCS1);
/** The key as list-public-keys gives it: PKCS#1 DER, base64, fingerprint = MD5 of those bytes. */
const KEY: PublicKey = { fingerprint: FINGERPRINT, value: PKCS1.toString('base64') };

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const TRAIL = 'management-events';
const BUCKET = 'aws-cloudtrail-logs-111122223333-3f2a';
const BASE = Date.UTC(2024, 4, 1, 0, 1, 31); // 2024-05-01T00:01:31Z

const compact = (t: number, secs: boolean) =>
  new Date(t)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
    .slice(0, secs ? 15 : 13) + 'Z';
const ymd = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '/');
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

function logKey(t: number, suffix: string, region = REGION, account = ACCOUNT): string {
  return `AWSLogs/${account}/CloudTrail/${region}/${ymd(t)}/${account}_CloudTrail_${region}_${compact(t, false)}_${suffix}.json.gz`;
}
function digestKey(end: number, trail = TRAIL): string {
  return `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/${ymd(end)}/${ACCOUNT}_CloudTrail-Digest_${REGION}_${trail}_${REGION}_${compact(end, true)}.json.gz`;
}

interface Chain {
  logs: LoadedLogFile[];
  digests: LoadedDigest[];
  /** Hex signature of each digest (what S3 metadata would hold). */
  signatures: string[];
  texts: string[];
}

let nextId = 1;
const logContent = (key: string) =>
  JSON.stringify({
    Records: [{ eventVersion: '1.09', eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventID: key }],
  });

/**
 * Builds `hours` hourly digests, each listing `perHour` log files delivered in its window, signed in chain
 * (optionally starting as a restarted chain after `restartAfter` digests).
 */
function buildChain(
  hours: number,
  perHour = 3,
  opts: { key?: KeyObject; start?: number; trail?: string; restartAt?: number } = {},
): Chain {
  const key = opts.key ?? privateKey;
  const start = opts.start ?? BASE;
  const logs: LoadedLogFile[] = [];
  const digests: LoadedDigest[] = [];
  const signatures: string[] = [];
  const texts: string[] = [];
  let prev: { key: string; sha: string; sig: string } | null = null;
  for (let h = 0; h < hours; h++) {
    const ds = start + h * 3600e3;
    const de = ds + 3600e3;
    const logFiles = [];
    for (let i = 0; i < perHour; i++) {
      const t = ds + (5 + i * 15) * 60e3;
      const k = logKey(t, `h${h}f${i}${opts.trail ?? ''}`);
      const text = logContent(k);
      const sha = sha256(text);
      logs.push({ path: `export/${k}`, s3Key: k, sha256: sha, fileId: nextId++ });
      logFiles.push({
        s3Bucket: BUCKET,
        s3Object: k,
        hashValue: sha,
        hashAlgorithm: 'SHA-256',
        newestEventTime: iso(t),
        oldestEventTime: iso(t - 60e3),
      });
    }
    if (opts.restartAt === h) prev = null;
    const dk = digestKey(de, opts.trail);
    const doc: DigestDocument = {
      awsAccountId: ACCOUNT,
      digestStartTime: iso(ds),
      digestEndTime: iso(de),
      digestS3Bucket: BUCKET,
      digestS3Object: dk,
      digestPublicKeyFingerprint: FINGERPRINT,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: logFiles.length ? logFiles[logFiles.length - 1].newestEventTime : null,
      oldestEventTime: logFiles.length ? logFiles[0].oldestEventTime : null,
      previousDigestS3Bucket: prev ? BUCKET : null,
      previousDigestS3Object: prev?.key ?? null,
      previousDigestHashValue: prev?.sha ?? null,
      previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
      previousDigestSignature: prev?.sig ?? null,
      logFiles,
    };
    const text = JSON.stringify(doc);
    const sha = sha256(text);
    const sig = sign('sha256', Buffer.from(signingString(doc, sha)), key).toString('hex');
    digests.push({ path: `export/${dk}`, s3Key: dk, fileId: nextId++, sha256: sha, digest: doc });
    signatures.push(sig);
    texts.push(text);
    prev = { key: dk, sha, sig };
  }
  return { logs, digests, signatures, texts };
}

/** Replaces a digest's document (as if its file was edited) and recomputes the hash the store would record. */
function editDigest(d: LoadedDigest, edit: (doc: DigestDocument) => void): LoadedDigest {
  const doc = structuredClone(d.digest);
  edit(doc);
  return { ...d, digest: doc, sha256: sha256(JSON.stringify(doc)) };
}

const fileStatus = (r: Awaited<ReturnType<typeof validate>>, path: string) => r.files.find((f) => f.path === path);

describe('public keys', () => {
  it('fingerprint is the MD5 of the listed DER bytes (AWS documentation examples)', () => {
    // "Custom implementations of CloudTrail log file integrity validation" (two PKCS#1 keys, one SPKI key) and
    // the AWS CLI reference example of list-public-keys
    const doc = {
      PublicKeyList: [
        {
          ValidityStartTime: '1436317441.0',
          ValidityEndTime: '1438909441.0',
          Fingerprint: '8eba5db5bea9b640d1c96a77256fe7f2',
          Value:
            'MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8NrwQ/r7Ah5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU6VmiPCrAUojuSk6/GjvA8iOPFsYDuBtviXarvuLPlrT9kAd4Lb+rFfR5peEgBEkhlzc5HuWO7S0y+KunqxX6jQBnXGMtxmPBPP0FylgWGNdFtks/4YSKcgqwH0YDcawP9GGGDAeCIqPWIXDLG1jOjRRzWfCmD0iJUkz8vTsn4hq/5ZxRFE7UBAUiVcGbdnDdvVfhF9C3dQiDq3k7adQIziLT0cShgQIDAQAB',
        },
        {
          ValidityStartTime: '1434589370.0',
          ValidityEndTime: '1437181370.0',
          Fingerprint: '31e8b5433410dfb61a9dc45cc65b22ff',
          Value:
            'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqlzPJbvZJ42UdcmLfPUqXYNfOs6I8lCfao/tOs8CmzPOEdtLWugB9xoIUz78qVHdKIqxbaG4jWHfJBiOSSFBM0lt8cdVo4TnRa7oG9io5pysS6DJhBBAeXsicufsiFJR+wrUNh8RSLxL4k6G1+BhLX20tJkZ/erT97tDGBujAelqseGg3vPZbTx9SMfOLN65PdLFudLP7Gat0Z9p5jw/rjpclKfo9Bfc3heeBxWGKwBBOKnFAaN9V57pOaosCvPKmHd9bg7jsQkI9Xp22IzGLsTFJZYVA3KiTAElDMu80iFXPHEq9hKNbt9e4URFam+1utKVEiLkR2disdCmPTK0VQIDAQAB',
        },
        {
          ValidityStartTime: 1453076702.0,
          ValidityEndTime: 1455668702.0,
          Fingerprint: '7f3f401420072e50a65a141430817ab3',
          Value:
            'MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB',
        },
      ],
    };
    expect(isPublicKeyList(doc)).toBe(true);
    const keys = parsePublicKeys(doc);
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(publicKeyFingerprint(base64ToBytes(k.value))).toBe(k.fingerprint);
    expect(publicKeyForm(base64ToBytes(keys[0].value))).toBe('pkcs1');
    expect(publicKeyForm(base64ToBytes(keys[1].value))).toBe('spki');
    expect(keys[0].validityStart).toBe(1436317441000);
    expect(keys[2].validityEnd).toBe(1455668702000);
  });

  it('accepts the User Guide spelling, bare arrays, one key, ISO times; computes a missing fingerprint; rejects other documents', () => {
    expect(isPublicKeyList({ publicKeyList: [] })).toBe(true);
    expect(parsePublicKeys({ PublicKeyList: [] })).toEqual([]);
    const [k] = parsePublicKeys([{ Value: KEY.value, ValidityStartTime: '2024-05-01T00:00:00+00:00' }]);
    expect(k.fingerprint).toBe(FINGERPRINT);
    expect(k.validityStart).toBe(Date.UTC(2024, 4, 1));
    expect(parsePublicKeys({ Value: KEY.value, Fingerprint: FINGERPRINT.toUpperCase() })[0].fingerprint).toBe(
      FINGERPRINT,
    );
    expect(isPublicKeyList({ Records: [] })).toBe(false);
    expect(isPublicKeyList({ PublicKeyList: [{ Fingerprint: 'x' }] })).toBe(false);
    expect(() => parsePublicKeys({ Records: [] })).toThrow(/not a CloudTrail public key list/);
  });

  it('wraps PKCS#1 into the SubjectPublicKeyInfo node:crypto produces, and unwraps it back', () => {
    expect(Buffer.from(toSpki(new Uint8Array(PKCS1))).equals(SPKI)).toBe(true);
    expect(Buffer.from(toSpki(new Uint8Array(SPKI))).equals(SPKI)).toBe(true);
    expect(Buffer.from(toPkcs1(new Uint8Array(SPKI))!).equals(PKCS1)).toBe(true);
    // a 1024-bit key (one length octet) too
    const big = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(
      Buffer.from(toSpki(new Uint8Array(big.export({ format: 'der', type: 'pkcs1' }) as Buffer))).equals(
        big.export({ format: 'der', type: 'spki' }) as Buffer,
      ),
    ).toBe(true);
    expect(() => toSpki(new Uint8Array([1, 2, 3]))).toThrow(/not a DER RSA public key/);
    expect(publicKeyForm(new Uint8Array([0x30, 0x03, 0x04, 0x01, 0x00]))).toBe(null);
  });
});

describe('validate: an intact chain', () => {
  it('verifies every log file and every signature but the newest (no next digest)', async () => {
    const c = buildChain(4);
    const r = await validate(c.logs, c.digests, [KEY]);
    expect(r.totals).toMatchObject({
      verified: 12,
      changed: 0,
      missing: 0,
      notCovered: 0,
      digests: 4,
      signaturesValid: 3,
      signaturesInvalid: 0,
      signaturesNotCheckable: 1,
      chainGaps: 0,
    });
    expect(r.findings).toEqual([]);
    expect(r.keyProblems).toEqual([]);
    expect(r.trails).toHaveLength(1);
    expect(r.trails[0]).toMatchObject({
      account: ACCOUNT,
      region: REGION,
      trail: TRAIL,
      homeRegion: REGION,
      digests: 4,
      verified: 12,
      from: BASE,
      to: BASE + 4 * 3600e3,
    });
    const digestResults = r.files.filter((f) => f.kind === 'digest');
    expect(digestResults.map((f) => f.kind === 'digest' && [f.signature, f.chain, f.contentMatchesNext])).toEqual([
      ['valid', 'start', true],
      ['valid', 'linked', true],
      ['valid', 'linked', true],
      ['not-checkable', 'linked', null],
    ]);
    expect(r.files.filter((f) => f.kind === 'log').every((f) => f.status === 'verified')).toBe(true);
    expect(integritySummaryAttributes(r)).toEqual({ 'data-verified': '12', 'data-changed': '0', 'data-missing': '0' });
  });

  it('checks the newest digest with its saved S3 metadata signature', async () => {
    const c = buildChain(3);
    const r = await validate(c.logs, c.digests, [KEY], { signatures: { [c.digests[2].s3Key]: c.signatures[2] } });
    expect(r.totals.signaturesValid).toBe(3);
  });

  it('without keys: hashes and chain only', async () => {
    const c = buildChain(3);
    const r = await validate(c.logs, c.digests, []);
    expect(r.totals).toMatchObject({ verified: 9, signaturesValid: 0, signaturesNotCheckable: 3 });
    expect(r.files.filter((f) => f.kind === 'digest').map((f) => f.status)).toEqual([
      'no-keys',
      'no-keys',
      'not-checkable',
    ]);
    expect(r.findings).toEqual([]);
  });

  it('matches copies by file name: no S3 prefix, flattened folders, gunzipped, archive members', async () => {
    const c = buildChain(2);
    const logs = c.logs.map((l, i) => {
      const name = l.s3Key.slice(l.s3Key.lastIndexOf('/') + 1);
      const path = i === 0 ? `flat/${name.replace(/\.gz$/, '')}` : i === 1 ? `logs.zip!${l.s3Key}` : l.path;
      return { ...l, path, s3Key: i === 0 ? '' : l.s3Key };
    });
    const r = await validate(logs, c.digests, [KEY]);
    expect(r.totals.verified).toBe(6);
  });
});

describe('validate: tampering', () => {
  it('a changed log file: digest-hash-mismatch with its path', async () => {
    const c = buildChain(3);
    c.logs[4] = { ...c.logs[4], sha256: sha256('{"Records":[]}') };
    const r = await validate(c.logs, c.digests, [KEY]);
    expect(r.totals).toMatchObject({ verified: 8, changed: 1, missing: 0 });
    const f = r.findings.find((x) => x.rule === 'digest-hash-mismatch')!;
    expect(f).toMatchObject({
      severity: 'critical',
      count: 1,
      files: [c.logs[4].path],
      accounts: [ACCOUNT],
      rows: [],
      keys: [],
      principals: [],
      query: 'finding:digest-hash-mismatch',
    });
    expect(f.first).toBe(Math.floor((BASE + 3600e3 + 20 * 60e3) / 60e3) * 60e3); // the name's delivery minute
    expect(fileStatus(r, c.logs[4].path)).toMatchObject({ status: 'changed' });
    expect(integritySummaryAttributes(r)['data-changed']).toBe('1');
  });

  it('a dropped log file of a loaded day is probably deleted; a day not loaded at all is probably just not copied', async () => {
    // 30 hourly digests from 2024-05-01T00:01:31Z: the last 6 windows reach 2024-05-02
    const c = buildChain(30, 2);
    const day2 = c.logs.filter((l) => l.s3Key.includes('/2024/05/02/'));
    const day1 = c.logs.filter((l) => l.s3Key.includes('/2024/05/01/'));
    expect(day2.length).toBeGreaterThan(0);
    const dropped = day1[7];
    const logs = day1.filter((l) => l !== dropped);
    const r = await validate(logs, c.digests, [KEY]);
    expect(r.totals.missing).toBe(1 + day2.length);
    expect(r.totals.missingLikelyDeleted).toBe(1);
    expect(r.missing.find((m) => m.likely === 'deleted')!.s3Object).toBe(dropped.s3Key);
    expect(
      r.missing
        .filter((m) => m.likely === 'not-loaded')
        .map((m) => m.s3Object)
        .sort(),
    ).toEqual(day2.map((l) => l.s3Key).sort());
    const findings = r.findings.filter((f) => f.rule === 'digest-missing-log-file');
    expect(findings.map((f) => [f.severity, f.count])).toEqual([
      ['high', 1],
      ['info', day2.length],
    ]);
    expect(findings[0].files).toEqual([dropped.s3Key]);
    expect(integritySummaryAttributes(r)['data-missing']).toBe(String(1 + day2.length));
  });

  it('a dropped middle digest: chain gap; its predecessor is not checkable; its log files are not covered', async () => {
    const c = buildChain(5);
    const digests = c.digests.filter((_, i) => i !== 2);
    const r = await validate(c.logs, digests, [KEY]);
    expect(r.totals.chainGaps).toBe(1);
    const gap = r.findings.find((f) => f.rule === 'digest-chain-gap')!;
    expect(gap.files).toEqual([c.digests[3].path]);
    expect(gap.description).toContain(c.digests[2].s3Key);
    expect(fileStatus(r, c.digests[1].path)).toMatchObject({ signature: 'not-checkable', chain: 'linked' });
    expect(fileStatus(r, c.digests[3].path)).toMatchObject({ signature: 'valid', chain: 'gap' });
    expect(r.totals).toMatchObject({ verified: 12, notCovered: 3, missing: 0 });
    // outside every loaded window: not covered, but no log-file-not-in-digest finding
    expect(r.findings.some((f) => f.rule === 'log-file-not-in-digest')).toBe(false);
    expect(r.trails[0]).toMatchObject({ notCovered: 3, notCoveredInWindow: 0, chainGaps: 1 });
  });

  it('a copy starting mid-chain is no gap, unless older log files were loaded', async () => {
    const c = buildChain(5);
    const r = await validate(c.logs.slice(6), c.digests.slice(2), [KEY]);
    expect(r.totals.chainGaps).toBe(0);
    expect(fileStatus(r, c.digests[2].path)).toMatchObject({ chain: 'before-range' });
    const r2 = await validate(c.logs.slice(5), c.digests.slice(2), [KEY]);
    expect(r2.totals.chainGaps).toBe(1);
    expect(r2.totals.notCovered).toBe(1);
    expect(fileStatus(r2, c.digests[2].path)).toMatchObject({ chain: 'gap' });
  });

  it('a corrupt signature: digest-signature-invalid on the digest it signs', async () => {
    const c = buildChain(4);
    const last = c.digests.length - 1;
    // flip a hex digit of the signature the newest digest holds for its predecessor
    const digests = c.digests.slice();
    digests[last] = editDigest(digests[last], (d) => {
      const s = d.previousDigestSignature!;
      d.previousDigestSignature = s.slice(0, 10) + (s[10] === '0' ? '1' : '0') + s.slice(11);
    });
    const r = await validate(c.logs, digests, [KEY]);
    expect(r.totals).toMatchObject({ signaturesValid: 2, signaturesInvalid: 1, signaturesNotCheckable: 1 });
    const f = r.findings.find((x) => x.rule === 'digest-signature-invalid')!;
    expect(f).toMatchObject({ severity: 'critical', files: [c.digests[last - 1].path] });
    expect(fileStatus(r, c.digests[last - 1].path)).toMatchObject({
      status: 'invalid',
      signature: 'invalid',
      contentMatchesNext: true,
    });
  });

  it('an edited digest (a log entry removed): its signature fails and the next digest records another hash', async () => {
    const c = buildChain(4);
    const digests = c.digests.slice();
    digests[1] = editDigest(digests[1], (d) => d.logFiles.splice(1, 1));
    const r = await validate(c.logs, digests, [KEY]);
    expect(r.findings.map((f) => f.rule).sort()).toEqual([
      'digest-file-changed',
      'digest-signature-invalid',
      'log-file-not-in-digest',
    ]);
    expect(r.findings.find((f) => f.rule === 'digest-file-changed')!.files).toEqual([c.digests[1].path]);
    expect(fileStatus(r, c.digests[1].path)).toMatchObject({ status: 'invalid', contentMatchesNext: false });
    // the unlisted log file lies inside the edited digest's window
    expect(r.findings.find((f) => f.rule === 'log-file-not-in-digest')!.files).toEqual([c.logs[4].path]);
    // without keys the hash link still tells
    const r2 = await validate(c.logs, digests, []);
    expect(r2.findings.map((f) => f.rule).sort()).toEqual(['digest-file-changed', 'log-file-not-in-digest']);
  });

  it("a digest re-signed with another key, or a key list without the digest's key", async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherKey: PublicKey = {
      fingerprint: md5(other.publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer),
      value: (other.publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer).toString('base64'),
    };
    const c = buildChain(3);
    const r = await validate(c.logs, c.digests, [otherKey]);
    expect(r.totals.signaturesValid).toBe(0);
    expect(r.files.filter((f) => f.kind === 'digest').map((f) => f.status)).toEqual([
      'key-not-found',
      'key-not-found',
      'not-checkable',
    ]);
    const f = r.findings.find((x) => x.rule === 'digest-public-key-not-found')!;
    expect(f).toMatchObject({ severity: 'low', count: 2 });
    expect(f.description).toContain(FINGERPRINT);
    // signed with the other key but claiming ours: invalid
    const forged = buildChain(3, 3, { key: other.privateKey });
    const r2 = await validate(forged.logs, forged.digests, [KEY, otherKey]);
    expect(r2.totals.signaturesInvalid).toBe(2);
  });

  it("a stated fingerprint that is not the key's MD5 is reported and not trusted", async () => {
    const c = buildChain(2);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const liar: PublicKey = {
      fingerprint: FINGERPRINT,
      value: (other.publicKey.export({ format: 'der', type: 'pkcs1' }) as Buffer).toString('base64'),
    };
    const r = await validate(c.logs, c.digests, [liar]);
    expect(r.keyProblems.join('\n')).toMatch(/is not the MD5 of its Value/);
    expect(fileStatus(r, c.digests[0].path)).toMatchObject({ signature: 'key-not-found' });
    const bad = await validate(c.logs, c.digests, [
      { fingerprint: 'x', value: '!!!' },
      { fingerprint: 'y', value: 'AAAA' },
    ]);
    expect(bad.keyProblems).toHaveLength(2);
  });

  it('the key in SPKI form (PEM or DER) verifies too, under the fingerprint AWS gives the PKCS#1 form', async () => {
    const c = buildChain(3);
    const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
    for (const value of [SPKI.toString('base64'), pem]) {
      const r = await validate(c.logs, c.digests, [{ fingerprint: FINGERPRINT, value }]);
      expect(r.totals.signaturesValid).toBe(2);
      expect(r.keyProblems).toEqual([]);
    }
    // and a digest that names the SPKI form's MD5 (as the AWS sample key 31e8b5... does) finds a PKCS#1 key
    const spkiPrint = md5(SPKI);
    const digests = c.digests.map((d) => ({ ...d, digest: { ...d.digest, digestPublicKeyFingerprint: spkiPrint } }));
    const r = await validate(c.logs, digests, [KEY]);
    expect(r.files.filter((f) => f.kind === 'digest').map((f) => f.kind === 'digest' && f.signature)).not.toContain(
      'key-not-found',
    );
  });

  it('a log file inside a loaded digest window that no digest lists; files of other accounts', async () => {
    const c = buildChain(3);
    const t = BASE + 3600e3 + 50 * 60e3;
    const k = logKey(t, 'injected');
    const otherAcct = logKey(t, 'other', REGION, '444455556666');
    const logs = [
      ...c.logs,
      { path: k, s3Key: k, sha256: sha256('x'), fileId: 999 },
      { path: otherAcct, s3Key: otherAcct, sha256: sha256('y'), fileId: 998 },
    ];
    const r = await validate(logs, c.digests, [KEY]);
    expect(r.totals.notCovered).toBe(2);
    expect(r.findings.find((f) => f.rule === 'log-file-not-in-digest')).toMatchObject({
      severity: 'medium',
      files: [k],
      count: 1,
    });
    expect(r.trails.find((x) => x.trail === null)).toMatchObject({ account: '444455556666', notCovered: 1 });
    expect(fileStatus(r, otherAcct)).toMatchObject({
      status: 'not-covered',
      detail: expect.stringMatching(/no digest of its account and Region/),
    });
  });

  it('a restarted chain (validation or logging off for a while)', async () => {
    const c = buildChain(6, 1, { restartAt: 4 });
    const digests = c.digests.filter((_, i) => i !== 3); // the hour before the restart was never written
    const logs = c.logs.filter((_, i) => i !== 3);
    const r = await validate(logs, digests, [KEY]);
    expect(r.totals.chainGaps).toBe(0);
    const f = r.findings.find((x) => x.rule === 'digest-chain-restarted')!;
    expect(f.files).toEqual([c.digests[4].path]);
    expect(f.description).toContain('2024-05-01T03:01:31Z');
    expect(fileStatus(r, c.digests[4].path)).toMatchObject({ chain: 'start', signature: 'valid' });
  });

  it('two trails of one account and Region are reported apart', async () => {
    const a = buildChain(2, 2);
    const b = buildChain(2, 2, { trail: 'data-events' });
    const r = await validate([...a.logs, ...b.logs], [...a.digests, ...b.digests], [KEY]);
    expect(r.trails.map((t) => [t.trail, t.verified, t.digests]).sort()).toEqual([
      ['data-events', 4, 2],
      [TRAIL, 4, 2],
    ]);
    expect(r.totals.verified).toBe(8);
  });

  it('never throws on malformed digests', async () => {
    const d: LoadedDigest = {
      path: 'x.json',
      s3Key: '',
      fileId: 1,
      sha256: '',
      digest: {
        digestStartTime: 'garbage',
        digestEndTime: '',
        logFiles: [{}, null as never, { s3Object: 'a.json.gz' }],
      },
    };
    const r = await validate([], [d], [KEY]);
    expect(r.totals.missing).toBe(1);
    expect(r.files[0]).toMatchObject({ kind: 'digest', status: 'not-checkable' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Public digest samples (read in place, never copied into the repository)

const PUBLIC = join(__dirname, '../../../shared/datasets/public');
const SAMPLES = [
  'awsdocs-aws-cloudtrail-user-guide/cloudtrail-log-file-validation-digest-file-structure__01__digest.json',
  'awsdocs-aws-cloudtrail-user-guide/cloudtrail-log-file-validation-digest-file-structure__02__digest.json',
  'elastic-integrations-aws-cloudtrail/pipeline-test-logs/test-cloudtrail-digest-json.log',
].map((p) => join(PUBLIC, p));

describe.skipIf(!SAMPLES.every(existsSync))('public digest samples', () => {
  const loaded: LoadedDigest[] = SAMPLES.map((p, i) => {
    const text = readFileSync(p, 'utf8');
    const digest = JSON.parse(text.trim()) as DigestDocument;
    return { path: p, s3Key: '', fileId: i + 1, sha256: sha256(text), digest };
  });

  it('parse as digests', () => {
    for (const d of loaded) expect(isDigest(d.digest)).toBe(true);
  });

  it('listed log files are missing (not loaded), signatures not checkable, no chain gap', async () => {
    const r = await validate([], loaded, []);
    expect(r.trails.map((t) => t.label).sort()).toEqual([
      '111122223333/us-east-2/example-trail-name',
      '111122223333/us-east-2/your-trail-name',
      '123456789123/us-west-2/leh-ct-test',
    ]);
    expect(r.totals).toMatchObject({
      missing: 4,
      missingLikelyDeleted: 0,
      verified: 0,
      signaturesNotCheckable: 3,
      chainGaps: 0,
    });
    expect(r.missing.every((m) => m.likely === 'not-loaded')).toBe(true);
    expect(r.files.map((f) => f.kind === 'digest' && [f.status, f.chain])).toEqual([
      ['not-checkable', 'before-range'],
      ['not-checkable', 'before-range'],
      ['not-checkable', 'before-range'],
    ]);
    expect(r.findings.map((f) => [f.rule, f.severity, f.count])).toEqual([['digest-missing-log-file', 'info', 4]]);
    // the empty-hour digest lists nothing
    expect(r.trails.find((t) => t.trail === 'example-trail-name')).toMatchObject({ missing: 0, digests: 1 });
  });

  it('a loaded copy of a listed file: changed when its content differs, probably deleted neighbours', async () => {
    const elastic = loaded[2];
    const listed = elastic.digest.logFiles.map((f) => f.s3Object!);
    const logs: LoadedLogFile[] = [
      { path: `bucket/${listed[0]}`, s3Key: listed[0], sha256: sha256('not the original'), fileId: 50 },
    ];
    const r = await validate(logs, [elastic], []);
    expect(r.totals).toMatchObject({ changed: 1, missing: 2, missingLikelyDeleted: 2 });
    expect(r.findings.map((f) => f.rule)).toEqual(['digest-hash-mismatch', 'digest-missing-log-file']);
    const ok: LoadedLogFile[] = [
      { path: listed[1], s3Key: listed[1], sha256: elastic.digest.logFiles[1].hashValue!, fileId: 51 },
    ];
    expect((await validate(ok, [elastic], [])).totals.verified).toBe(1);
  });
});

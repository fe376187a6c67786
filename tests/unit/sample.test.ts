/**
 * The generated sample (public/sample, scripts/gen-sample.mjs) through the cross-account and coverage analyses:
 * the answers must be EXPECTED.json's. The events are read from the delivery files directly (node:zlib) into
 * the arrays the query worker builds from its index.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  coverageFindings,
  exclusionWindows,
  kmsSilence,
  trailTimelines,
  unrecordedCrossAccountCalls,
  type TrailEvent,
} from '../../src/lib/analysis/coverage';
import { correlate, type CallRecord } from '../../src/lib/analysis/crossAccount';
import { keyOf, principalOf, type CloudTrailEvent } from '../../src/lib/cloudtrail/event';

const SAMPLE = join(__dirname, '../../public/sample');

interface Sample {
  expected: any;
  index: { files: string[]; events: number; publicKeys?: string };
  /** Events of the log files, in index order, with their row (position). */
  events: CloudTrailEvent[];
  /** Parsed digest files by path. */
  digests: Map<string, { raw: Buffer; json: any }>;
  calls: CallRecord[];
  trailEvents: TrailEvent[];
  loadedAccounts: Set<string>;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\//;

/** The key (or resource) ARN of an event, as the lead's index gives it: the key ARN when the event names one. */
function resourceArnOf(e: CloudTrailEvent): string {
  for (const r of (e.resources as { ARN?: string; type?: string }[] | undefined) ?? [])
    if (r && typeof r.ARN === 'string' && r.type === 'AWS::KMS::Key' && KEY_ARN.test(r.ARN)) return r.ARN;
  const k = keyOf(e);
  return KEY_ARN.test(k) ? k : '';
}

function loadSample(): Sample {
  const expected = JSON.parse(readFileSync(join(SAMPLE, 'EXPECTED.json'), 'utf8'));
  const index = JSON.parse(readFileSync(join(SAMPLE, 'index.json'), 'utf8'));
  const events: CloudTrailEvent[] = [];
  const digests = new Map<string, { raw: Buffer; json: any }>();
  for (const f of index.files as string[]) {
    const raw = gunzipSync(readFileSync(join(SAMPLE, f)));
    const json = JSON.parse(raw.toString('utf8'));
    if (Array.isArray(json.Records)) events.push(...json.Records);
    else digests.set(f, { raw, json });
  }
  const calls: CallRecord[] = [];
  const trailEvents: TrailEvent[] = [];
  events.forEach((e, row) => {
    const time = Date.parse(e.eventTime as string);
    if (e.eventSource === 'kms.amazonaws.com') {
      calls.push({
        row,
        time,
        eventSource: e.eventSource,
        eventName: e.eventName,
        errorCode: (e.errorCode as string) ?? '',
        recipientAccountId: (e.recipientAccountId as string) ?? '',
        callerAccount: (e.userIdentity?.accountId as string) ?? '',
        principal: principalOf(e),
        sharedEventID: (e.sharedEventID as string) ?? '',
        requestID: (e.requestID as string) ?? '',
        eventID: (e.eventID as string) ?? '',
        awsRegion: (e.awsRegion as string) ?? '',
        resourceArn: resourceArnOf(e),
      });
    }
    if (e.eventSource === 'cloudtrail.amazonaws.com') {
      trailEvents.push({
        row,
        time,
        eventName: e.eventName,
        errorCode: (e.errorCode as string) ?? '',
        recipientAccountId: (e.recipientAccountId as string) ?? '',
        awsRegion: (e.awsRegion as string) ?? '',
        principal: principalOf(e),
        sourceIPAddress: (e.sourceIPAddress as string) ?? '',
        requestParameters: (e.requestParameters as Record<string, unknown>) ?? null,
        responseElements: (e.responseElements as Record<string, unknown>) ?? null,
      });
    }
  });
  const loadedAccounts = new Set(events.map((e) => e.recipientAccountId as string).filter(Boolean));
  return { expected, index, events, digests, calls, trailEvents, loadedAccounts };
}

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

describe('sample data (public/sample)', () => {
  const s = loadSample();
  const X = s.expected;

  it('reads every indexed file: the events and the digests', () => {
    expect(s.events).toHaveLength(X.events);
    expect(s.index.events).toBe(X.events);
    expect(s.digests.size).toBe(X.digestFiles);
    expect(s.index.files).toHaveLength(X.indexFiles);
    expect(s.loadedAccounts).toEqual(new Set(['111122223333', '444455556666']));
  });

  const corr = correlate(s.calls, s.loadedAccounts);

  it('cross-account calls per status, per key owner', () => {
    const count = (owner?: string) => {
      const c: Record<string, number> = {
        paired: 0,
        'caller-only-denied': 0,
        'caller-only-succeeded': 0,
        'owner-only': 0,
      };
      for (const r of corr.records) if (!owner || r.ownerAccount === owner) c[r.status]++;
      return c;
    };
    const xa = X.crossAccount;
    expect(corr.records).toHaveLength(xa.requests);
    expect(count()).toEqual({
      paired: xa.paired,
      'caller-only-denied': xa.callerOnlyDenied,
      'caller-only-succeeded': xa.callerOnlySucceeded + xa.callerOnlyOtherFailure,
      'owner-only': xa.ownerOnly,
    });
    for (const [owner, o] of Object.entries(xa.byOwnerAccount) as [string, any][]) {
      expect(count(owner), owner).toEqual({
        paired: o.paired,
        'caller-only-denied': o.callerOnlyDenied,
        'caller-only-succeeded': o.callerOnlySucceeded + o.callerOnlyOtherFailure,
        'owner-only': o.ownerOnly,
      });
    }
    expect(corr.records.filter((r) => r.status === 'paired' && r.errorCode).length).toBe(xa.pairedFailed);
    const byCaller: Record<string, number> = {};
    for (const r of corr.records) byCaller[r.callerAccount] = (byCaller[r.callerAccount] ?? 0) + 1;
    expect(byCaller).toEqual(xa.byCallerAccount);
    expect(corr.records.filter((r) => r.status === 'owner-only').every((r) => !r.callerAccountLoaded)).toBe(
      xa.ownerOnlyCallerLoaded === 0,
    );
  });

  it('accounts view and matrix: the external account is marked', () => {
    const ext = corr.accounts.find((a) => a.account === '777788889999')!;
    expect(ext).toMatchObject({
      external: true,
      logsLoaded: false,
      asCaller: X.crossAccount.ownerOnlyByCallerAccount['777788889999'],
    });
    const cell = corr.matrix.find((m) => m.callerAccount === '777788889999')!;
    expect(cell).toMatchObject({
      ownerAccount: '111122223333',
      external: true,
      calls: X.crossAccount.ownerOnlyByCallerAccount['777788889999'],
    });
    expect(
      corr.matrix.find((m) => m.callerAccount === '111122223333' && m.ownerAccount === '444455556666')!.calls,
    ).toBe(X.crossAccount.byOwnerAccount['444455556666'].requests);
    expect(corr.findings.map((f) => f.rule).sort()).toEqual([
      'cross-account-owner-copy-missing',
      'external-account-key-use',
    ]);
  });

  const tls = trailTimelines(s.trailEvents);
  const ws = exclusionWindows(tls);

  it('every exclusion window: trail, account, kind, selector kind, start, end, who', () => {
    const got = ws.map((w) => ({
      trail: w.trail,
      account: w.account,
      kind: w.kind,
      selectorKind: w.selectorKind ?? null,
      start: iso(w.start),
      end: iso(w.end),
      startedBy: {
        principal: w.startedBy.principal,
        sourceIPAddress: w.startedBy.sourceIPAddress,
        eventName: w.startedBy.eventName,
        eventID: s.events[w.startedBy.row].eventID,
        time: iso(w.startedBy.time),
      },
      endedBy: w.endedBy
        ? {
            principal: w.endedBy.principal,
            sourceIPAddress: w.endedBy.sourceIPAddress,
            eventName: w.endedBy.eventName,
            eventID: s.events[w.endedBy.row].eventID,
            time: iso(w.endedBy.time),
          }
        : null,
    }));
    expect(got).toEqual(X.coverage.windows);
    // the older answers still hold
    const org = ws.find((w) => w.trail === 'org-trail' && w.kind === 'kms-excluded')!;
    expect([iso(org.start), iso(org.end)]).toEqual([X.exclusionWindow.start, X.exclusionWindow.end]);
    const stop = ws.find((w) => w.trail === 'org-trail' && w.kind === 'logging-stopped')!;
    expect([iso(stop.start), iso(stop.end)]).toEqual([X.stopLogging.stoppedAt, X.stopLogging.startedAt]);
  });

  it('trail updates and deletions', () => {
    const changes = tls.flatMap((t) => t.changes.map((c) => ({ t, c })));
    const upd = changes.filter(({ c }) => c.eventName === 'UpdateTrail');
    expect(
      upd.map(({ t, c }) => ({
        trail: t.trail,
        account: t.account,
        time: iso(c.time),
        eventID: s.events[c.row].eventID,
        principal: c.principal,
        sourceIPAddress: c.sourceIPAddress,
        field: c.diff[0].field,
        from: c.diff[0].from,
        to: c.diff[0].to,
      })),
    ).toEqual(X.coverage.trailUpdated);
    const del = changes.filter(({ c }) => c.changed.includes('deleted'));
    expect(
      del.map(({ t, c }) => ({
        trail: t.trail,
        account: t.account,
        time: iso(c.time),
        eventID: s.events[c.row].eventID,
        principal: c.principal,
        sourceIPAddress: c.sourceIPAddress,
      })),
    ).toEqual(X.coverage.trailDeleted);
  });

  const silences = kmsSilence(
    s.events.map((e, row) => ({
      time: Date.parse(e.eventTime as string),
      recipientAccountId: e.recipientAccountId as string,
      awsRegion: e.awsRegion as string,
      eventSource: e.eventSource,
      row,
    })),
  );

  it('KMS silence: exactly the expected gaps (not the StopLogging gap, not the missing log file)', () => {
    expect(
      silences.map((x) => ({ account: x.account, region: x.region, start: iso(x.start), end: iso(x.end) })),
    ).toEqual(X.coverage.kmsSilence.map(({ account, region, start, end }: any) => ({ account, region, start, end })));
  });

  it("corroboration: caller-side calls whose owner copy is missing inside the owner's exclusion windows", () => {
    const un = unrecordedCrossAccountCalls(corr.records, tls, ws);
    expect(un).toHaveLength(X.coverage.unrecordedCrossAccountCalls.ownerCopyMissingInWindow);
    const by: Record<string, number> = {};
    for (const u of un) by[u.account] = (by[u.account] ?? 0) + 1;
    expect(by).toEqual(X.coverage.unrecordedCrossAccountCalls.byOwnerAccount);
    expect(un.every((u) => u.missing === 'owner-copy')).toBe(true);
    const missingCopies = corr.records.filter((r) => r.status === 'caller-only-succeeded').length;
    expect(missingCopies - un.length).toBe(X.coverage.unrecordedCrossAccountCalls.notInWindow);
  });

  it('findings: every expected rule', () => {
    const f = [
      ...coverageFindings({ timelines: tls, windows: ws, crossAccount: corr.records, silences }),
      ...corr.findings,
    ];
    expect(f.map((x) => x.rule).sort()).toEqual([...X.coverage.findings].sort());
    const ex = f.find((x) => x.rule === 'kms-events-excluded')!;
    expect(ex.description).toContain('basic event selectors');
    expect(ex.description).toContain('advanced event selectors');
    for (const x of f) for (const r of x.rows) expect(r >= 0 && r < s.events.length).toBe(true);
  });

  it('digests: signed with the test key, chained, listing the hash of each uncompressed log file', () => {
    const keys = JSON.parse(readFileSync(join(SAMPLE, X.digests.publicKeysFile), 'utf8'));
    expect(Object.keys(keys)).toEqual(['PublicKeyList']);
    const pk = keys.PublicKeyList[0];
    expect(Object.keys(pk).sort()).toEqual(['Fingerprint', 'ValidityEndTime', 'ValidityStartTime', 'Value']);
    const der = Buffer.from(pk.Value, 'base64');
    expect(createHash('md5').update(der).digest('hex')).toBe(pk.Fingerprint);
    expect(pk.Fingerprint).toBe(X.digests.publicKeyFingerprint);
    const pub = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const paths = [...s.digests.keys()];
    expect(Object.keys(X.digests.signatures)).toEqual(paths);
    const breaks = new Set(X.digests.chainBreaks.map((b: any) => b.digest));
    let prev: { path: string; hash: string } | null = null;
    const listed = new Map<string, string>();
    for (const p of paths) {
      const { raw, json: d } = s.digests.get(p)!;
      expect(d.digestS3Object).toBe(p);
      expect(d.digestSignatureAlgorithm).toBe('SHA256withRSA');
      expect(d.digestPublicKeyFingerprint).toBe(pk.Fingerprint);
      const sig = X.digests.signatures[p];
      const toSign = `${d.digestEndTime}\n${d.digestS3Bucket}/${d.digestS3Object}\n${sha(raw)}\n${d.previousDigestSignature ?? 'null'}`;
      expect(verify('sha256', Buffer.from(toSign), pub, Buffer.from(sig, 'hex')), p).toBe(true);
      if (breaks.has(p) || !prev) {
        expect(d.previousDigestSignature).toBeNull();
        expect(d.previousDigestS3Object).toBeNull();
      } else {
        expect(d.previousDigestS3Object).toBe(prev.path);
        expect(d.previousDigestHashValue).toBe(prev.hash);
        expect(d.previousDigestSignature).toBe(X.digests.signatures[prev.path]);
      }
      for (const lf of d.logFiles) listed.set(lf.s3Object, lf.hashValue);
      prev = { path: p, hash: sha(raw) };
    }
    // every org-trail us-east-1 log file is listed; all match except the changed one; the missing one is absent
    const ownerLogs = s.index.files.filter((f) => f.startsWith('AWSLogs/111122223333/CloudTrail/us-east-1/'));
    expect(listed.size).toBe(ownerLogs.length + 1);
    const bad: string[] = [];
    for (const f of ownerLogs) if (sha(gunzipSync(readFileSync(join(SAMPLE, f)))) !== listed.get(f)) bad.push(f);
    expect(bad).toEqual([X.logFileIntegrity.changed.path]);
    expect(listed.get(X.logFileIntegrity.changed.path)).toBe(X.logFileIntegrity.changed.listedHash);
    const missing = X.logFileIntegrity.missing.path;
    expect(listed.get(missing)).toBe(X.logFileIntegrity.missing.listedHash);
    expect(s.index.files).not.toContain(missing);
    expect(existsSync(join(SAMPLE, missing))).toBe(false);
  });
});

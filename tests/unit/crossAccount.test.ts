import { describe, expect, it } from 'vitest';
import { correlate, isDenied, type CallRecord } from '../../src/lib/analysis/crossAccount';
import { parseQuery } from '../../src/lib/query/parser';

const OWNER = '111122223333';
const APP = '444455556666';
const EXT = '777788889999';
const KEY = `arn:aws:kms:us-east-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const APP_KEY = `arn:aws:kms:us-east-1:${APP}:key/c3d2e1f0-4a5b-4c6d-8e7f-90a1b2c3d4e5`;
const EXT_KEY = `arn:aws:kms:eu-west-1:${EXT}:key/0b0b0b0b-1111-4222-8333-444444444444`;
const T0 = Date.parse('2024-03-05T10:00:00Z');

let row = 0;
/** One copy of a call. */
function copy(o: Partial<CallRecord> & { recipientAccountId: string; callerAccount: string }): CallRecord {
  return {
    row: row++,
    time: T0,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    errorCode: '',
    principal: `arn:aws:sts::${o.callerAccount}:assumed-role/app/s`,
    sharedEventID: '',
    requestID: `req-${row}`,
    eventID: `ev-${row}`,
    awsRegion: 'us-east-1',
    resourceArn: KEY,
    ...o,
  };
}
/** Both copies of a cross-account call (caller's first). */
function pair(caller: string, owner: string, o: Partial<CallRecord> = {}): [CallRecord, CallRecord] {
  const shared = o.sharedEventID ?? `shared-${row}`;
  const requestID = o.requestID ?? `req-pair-${row}`;
  const c = copy({ recipientAccountId: caller, callerAccount: caller, sharedEventID: shared, requestID, ...o });
  const w = copy({
    recipientAccountId: owner,
    callerAccount: caller,
    sharedEventID: shared,
    requestID,
    ...o,
    principal: `AWSAccount:AROAEXAMPLE:s`,
  });
  return [c, w];
}

describe('correlate: statuses', () => {
  it('pairs the two copies by sharedEventID', () => {
    const [c, w] = pair(APP, OWNER);
    const r = correlate([w, c], new Set([OWNER, APP]));
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({
      status: 'paired',
      callerAccount: APP,
      ownerAccount: OWNER,
      rows: [c.row, w.row],
      callerRow: c.row,
      ownerRow: w.row,
      pairedBy: 'sharedEventID',
      principal: c.principal,
      callerAccountLoaded: true,
      ownerAccountLoaded: true,
      eventName: 'Decrypt',
      time: T0,
      resourceArn: KEY,
    });
    expect(r.findings).toEqual([]);
  });

  it('falls back to requestID + eventName + eventTime when sharedEventID is absent', () => {
    const [c, w] = pair(APP, OWNER, { sharedEventID: '', requestID: 'r-fallback' });
    // a different call with the same requestID but another eventName stays apart
    const other = copy({ recipientAccountId: APP, callerAccount: APP, requestID: 'r-fallback', eventName: 'Encrypt' });
    const r = correlate([c, w, other], new Set([OWNER, APP]));
    const paired = r.records.find((x) => x.status === 'paired')!;
    expect(paired).toMatchObject({ rows: [c.row, w.row], pairedBy: 'requestID' });
    expect(r.records.find((x) => x.eventName === 'Encrypt')!.status).toBe('caller-only-succeeded');
    // a copy with a sharedEventID pairs with one without, by the fallback key
    const [c2, w2] = pair(APP, OWNER, { requestID: 'r-mixed' });
    w2.sharedEventID = '';
    expect(correlate([c2, w2], new Set([OWNER, APP])).records[0]).toMatchObject({
      status: 'paired',
      pairedBy: 'requestID',
    });
  });

  it('caller-only, denied: rejected for lack of access, logged only in the caller account (expected, no finding)', () => {
    const c = copy({
      recipientAccountId: APP,
      callerAccount: APP,
      errorCode: 'AccessDeniedException',
      eventName: 'GenerateDataKey',
    });
    const r = correlate([c], new Set([OWNER, APP]));
    expect(r.records[0]).toMatchObject({
      status: 'caller-only-denied',
      errorCode: 'AccessDeniedException',
      rows: [c.row],
      callerRow: c.row,
    });
    expect(r.records[0].ownerRow).toBeUndefined();
    expect(r.findings).toEqual([]);
    expect(isDenied('AccessDenied')).toBe(true);
    expect(isDenied('KMSInvalidStateException')).toBe(false);
  });

  it("caller-only, succeeded: the owner's copy is missing although the owner's logs are loaded (high), or not loaded (low)", () => {
    const [c] = pair(APP, OWNER);
    const failedOther = copy({
      recipientAccountId: APP,
      callerAccount: APP,
      errorCode: 'KMSInvalidStateException',
      sharedEventID: 'x-1',
    });
    const r = correlate([c, failedOther], new Set([OWNER, APP]));
    expect(r.records.map((x) => x.status)).toEqual(['caller-only-succeeded', 'caller-only-succeeded']);
    const f = r.findings.find((x) => x.rule === 'cross-account-owner-copy-missing')!;
    expect(f).toMatchObject({
      severity: 'high',
      count: 2,
      query: 'finding:cross-account-owner-copy-missing',
      accounts: [OWNER, APP],
      keys: [KEY],
    });
    expect(f.rows).toEqual([c.row, failedOther.row]);

    const notLoaded = correlate([c], new Set([APP]));
    expect(notLoaded.records[0]).toMatchObject({ status: 'caller-only-succeeded', ownerAccountLoaded: false });
    expect(notLoaded.findings.find((x) => x.rule === 'cross-account-owner-copy-missing')!.severity).toBe('low');
    // ... and the owner is then an external account
    expect(notLoaded.findings.find((x) => x.rule === 'external-account-key-use')!.severity).toBe('medium');
  });

  it("owner-only: an external caller (only the owner's copy exists), or a loaded caller whose copy is missing", () => {
    const [, w] = pair(EXT, OWNER, { eventName: 'GenerateDataKey' });
    const r = correlate([w], new Set([OWNER, APP]));
    expect(r.records[0]).toMatchObject({
      status: 'owner-only',
      callerAccount: EXT,
      ownerAccount: OWNER,
      callerAccountLoaded: false,
      rows: [w.row],
      ownerRow: w.row,
    });
    const f = r.findings.find((x) => x.rule === 'external-account-key-use')!;
    expect(f).toMatchObject({
      severity: 'high',
      count: 1,
      accounts: [OWNER, EXT],
      query: 'finding:external-account-key-use',
    });
    expect(f.description).toContain(EXT);

    const [, w2] = pair(APP, OWNER);
    expect(correlate([w2], new Set([OWNER, APP])).records[0]).toMatchObject({
      status: 'owner-only',
      callerAccountLoaded: true,
    });
  });

  it('an owner copy without a resource ARN takes its recipient as the owner', () => {
    const [c, w] = pair(APP, OWNER);
    w.resourceArn = '';
    expect(correlate([c, w], new Set([OWNER, APP])).records[0]).toMatchObject({
      status: 'paired',
      ownerAccount: OWNER,
      resourceArn: KEY,
    });
  });

  it('same-account calls and AWS service calls are not cross-account calls', () => {
    const same = copy({ recipientAccountId: OWNER, callerAccount: OWNER });
    const svc = copy({ recipientAccountId: OWNER, callerAccount: '', principal: 'ec2.amazonaws.com' });
    const r = correlate([same, svc], new Set([OWNER]));
    expect(r.records).toEqual([]);
    expect(r.matrix).toHaveLength(1);
    expect(r.matrix[0]).toMatchObject({
      callerAccount: OWNER,
      ownerAccount: OWNER,
      calls: 1,
      crossAccount: false,
      external: false,
    });
  });
});

describe('correlate: matrix and accounts', () => {
  it('counts calls (copies once), keys and failures per caller → owner, marks external accounts', () => {
    const calls: CallRecord[] = [
      ...pair(APP, OWNER),
      ...pair(APP, OWNER, { eventName: 'GenerateDataKey', errorCode: 'KMSInvalidStateException' }),
      copy({ recipientAccountId: APP, callerAccount: APP, errorCode: 'AccessDeniedException' }),
      pair(EXT, OWNER)[1],
      ...pair(OWNER, APP, { resourceArn: APP_KEY }),
      copy({ recipientAccountId: OWNER, callerAccount: OWNER, eventName: 'ListAliases', resourceArn: '' }),
      copy({ recipientAccountId: APP, callerAccount: APP, resourceArn: EXT_KEY, sharedEventID: 'to-ext' }),
      copy({
        recipientAccountId: OWNER,
        callerAccount: OWNER,
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        resourceArn: `arn:aws:iam::${OWNER}:role/x`,
      }),
    ];
    const r = correlate(calls, new Set([OWNER, APP]));
    const cell = (c: string, o: string) => r.matrix.find((m) => m.callerAccount === c && m.ownerAccount === o)!;
    expect(cell(APP, OWNER)).toMatchObject({
      calls: 3,
      keys: 1,
      keyArns: [KEY],
      failures: 2,
      denied: 1,
      crossAccount: true,
      external: false,
      statuses: { paired: 2, 'caller-only-denied': 1, 'caller-only-succeeded': 0, 'owner-only': 0 },
    });
    expect(cell(APP, OWNER).rows).toHaveLength(5);
    expect(cell(EXT, OWNER)).toMatchObject({
      calls: 1,
      external: true,
      callerExternal: true,
      ownerExternal: false,
      statuses: { 'owner-only': 1 },
    });
    expect(cell(OWNER, APP)).toMatchObject({ calls: 1, keyArns: [APP_KEY], statuses: { paired: 1 } });
    expect(cell(OWNER, OWNER)).toMatchObject({ calls: 1, keys: 0, crossAccount: false }); // ListAliases; AssumeRole is not KMS
    expect(cell(APP, EXT)).toMatchObject({ calls: 1, ownerExternal: true, statuses: { 'caller-only-succeeded': 1 } });
    // a cell's query parses and names both accounts
    for (const m of r.matrix) {
      expect(() => parseQuery(m.query)).not.toThrow();
      expect(m.query).toContain(`userIdentity.accountId:${m.callerAccount}`);
      expect(m.query).toContain(`:${m.ownerAccount}:/`);
    }

    const acct = (a: string) => r.accounts.find((x) => x.account === a)!;
    expect(r.accounts.map((a) => a.account)).toEqual([OWNER, APP, EXT]);
    expect(acct(OWNER)).toMatchObject({
      logsLoaded: true,
      external: false,
      roles: ['caller', 'recipient', 'key-owner'],
      asCaller: 2,
      asKeyOwner: 5,
      crossAccountIn: 4,
      crossAccountOut: 1,
      keysOwned: 1,
    });
    expect(acct(APP)).toMatchObject({
      roles: ['caller', 'recipient', 'key-owner'],
      asCaller: 4,
      crossAccountOut: 4,
      crossAccountIn: 1,
      failures: 2,
    });
    expect(acct(EXT)).toMatchObject({
      logsLoaded: false,
      external: true,
      roles: ['caller', 'key-owner'],
      asRecipient: 0,
    });
  });

  it('copies of one call count once; records are in time order', () => {
    const a = pair(APP, OWNER, { time: T0 + 5000 });
    const b = pair(APP, OWNER, { time: T0 });
    const r = correlate([...a, ...b], new Set([OWNER, APP]));
    expect(r.records.map((x) => x.time)).toEqual([T0, T0 + 5000]);
    expect(r.matrix[0].calls).toBe(2);
    expect(r.matrix[0].first).toBe(T0);
    expect(r.matrix[0].last).toBe(T0 + 5000);
  });
});

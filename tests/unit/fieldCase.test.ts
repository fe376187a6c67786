/**
 * Field names are case-insensitive in KeyTrail's queries, paths included, as Athena's JSON SerDe reads CloudTrail
 * records ("Create a table for CloudTrail logs in Athena"): some services log `resources[].arn` instead of `ARN`.
 */
import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery } from '../../src/lib/query/parser';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { buildColumns } from '../../src/lib/codec/segment';
import { kmsEvent } from './helpers';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const events: CloudTrailEvent[] = [
  kmsEvent(0, { resources: [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY }] }),
  kmsEvent(1, { resources: [{ accountid: '111122223333', TYPE: 'AWS::KMS::Key', arn: KEY }] }),
  kmsEvent(2, { resources: [], requestParameters: { KeyId: 'alias/x' } }),
];

function engine(): Engine {
  const built = buildColumns(events);
  const ix = new ColumnarIndex();
  ix.addSegment({
    id: 1,
    fileId: 1,
    n: events.length,
    time: built.time,
    eid: new Uint32Array(events.length * 2),
    cols: built.cols,
  });
  const fx = new FieldIndex();
  fx.add({ id: 1, ...buildFieldStore(events) }, 0);
  return new Engine(ix, fx);
}

const count = (q: string) =>
  engine()
    .evaluate(parseQuery(q))
    .reduce((a, b) => a + b, 0);

describe('field names are case-insensitive', () => {
  it('resources[].arn and resources[].ARN are the same field (resources.ARN, ResourceName, key:)', () => {
    expect(count('resources.ARN:*')).toBe(2);
    expect(count('resources.arn:*')).toBe(2);
    expect(count(`ResourceName:${KEY}`)).toBe(2);
    expect(count('resourceType:AWS::KMS::Key')).toBe(2);
    expect(count('key:1234abcd-12ab-34cd-56ef-1234567890ab')).toBe(2);
    expect(count('resources.accountId:111122223333')).toBe(2);
  });

  it('paths match whatever the case of their names, in the query or in the event', () => {
    expect(count('USERIDENTITY.SessionContext.sessionissuer.ARN:*')).toBe(3);
    expect(count('requestparameters.keyid:alias/x')).toBe(1);
    expect(count('requestParameters.keyId:alias/x')).toBe(1);
    expect(count('REQUESTPARAMETERS.ENCRYPTIONALGORITHM:symmetric_default')).toBe(2);
  });
});

import { describe, expect, test } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../../src/ui/state/route';
import { VIEWS } from '../../src/ui/views';

/** A route of `view` with every URL parameter the view keeps set (and none other). */
function full(view: Route['view']): Route {
  const params: readonly string[] = VIEWS.find((v) => v.id === view)!.params;
  const r: Route = { view, q: '', desc: false };
  if (params.includes('q')) r.q = 'eventName:Decrypt AND "alias/pay ments" +x&y=z';
  if (params.includes('from')) r.from = Date.UTC(2024, 2, 1, 12, 0, 5);
  if (params.includes('to')) r.to = Date.UTC(2024, 2, 2, 0, 0, 0, 250);
  if (params.includes('sort')) r.desc = true;
  if (params.includes('event')) r.event = 'f1e2d3c4-0000-4abc-9def-123456789abc';
  if (params.includes('key')) r.key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  return r;
}

describe('routes of the view table (src/ui/views.ts)', () => {
  test('the table has unique ids and unique shortcuts', () => {
    expect(new Set(VIEWS.map((v) => v.id)).size).toBe(VIEWS.length);
    const keys = VIEWS.flatMap((v) => ('shortcut' in v ? [v.shortcut] : []));
    expect(new Set(keys).size).toBe(keys.length);
  });

  test.each(VIEWS.map((v) => v.id))('#%s is accepted and round-trips its parameters', (id) => {
    expect(parseRoute(`#${id}`).view).toBe(id);
    const r = full(id);
    const hash = formatRoute(r);
    expect(hash.startsWith(`#${id}`)).toBe(true);
    expect(parseRoute(hash)).toEqual({ key: undefined, from: undefined, to: undefined, event: undefined, ...r });
    // a parameter the view does not keep is not written
    const every = formatRoute({ ...full('events'), key: 'arn:aws:kms:us-east-1:111122223333:key/x', view: id });
    const written = [...new URLSearchParams(every.split('?')[1] ?? '').keys()];
    expect(written).toEqual(VIEWS.find((v) => v.id === id)!.params);
  });

  test('hashes written before the table keep their meaning', () => {
    expect(formatRoute({ view: 'events', q: 'a b', desc: true, from: Date.UTC(2024, 0, 1) })).toBe(
      '#events?q=a%20b&from=2024-01-01T00%3A00%3A00Z&sort=desc',
    );
    expect(formatRoute({ view: 'keys', key: 'arn:aws:kms:us-east-1:111122223333:key/k1', q: '', desc: false })).toBe(
      '#keys?key=' + encodeURIComponent('arn:aws:kms:us-east-1:111122223333:key/k1'),
    );
    expect(formatRoute({ view: 'keys', q: 'x', desc: false })).toBe('#keys');
    expect(formatRoute({ view: 'findings', q: 'x', desc: true })).toBe('#findings');
    expect(parseRoute('#nope?q=x').view).toBe('events');
    expect(parseRoute('#nope').view).toBe('files');
    expect(parseRoute('').view).toBe('files');
  });
});

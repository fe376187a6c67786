import { isEvent, type CloudTrailEvent } from '../../cloudtrail/event';
import type { InputFormat } from './types';

/** A single CloudTrail event object, as documentation pages and consoles show one. */
export const singleEvent: InputFormat = {
  id: 'single-event',
  detect: isEvent,
  extract: (doc) => ({ events: [doc as CloudTrailEvent], skipped: 0, notes: [] }),
};

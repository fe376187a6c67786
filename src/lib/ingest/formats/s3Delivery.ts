import { isEvent } from '../../cloudtrail/event';
import { FormatError, collect, isObject, type InputFormat } from './types';

/**
 * CloudTrail's S3 delivery file: `{"Records":[event, ...]}`.
 * Source: "CloudTrail log file examples" (AWS CloudTrail User Guide).
 */
export const s3Delivery: InputFormat = {
  id: 's3-delivery',
  detect: (doc) => isObject(doc) && 'Records' in doc,
  extract(doc) {
    const records = (doc as Record<string, unknown>).Records;
    if (!Array.isArray(records))
      throw new FormatError(`"Records" is ${records === null ? 'null' : typeof records}, not an array`);
    return collect(records, (r) =>
      isEvent(r)
        ? r
        : isObject(r)
          ? 'record has no string eventSource/eventName'
          : `record is ${r === null ? 'null' : Array.isArray(r) ? 'an array' : typeof r}`,
    );
  },
};

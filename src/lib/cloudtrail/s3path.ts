/**
 * Parsing of the S3 object keys under which CloudTrail delivers log and digest files.
 *
 * Source: "Finding your CloudTrail log files" and "CloudTrail digest file structure" (AWS CloudTrail User
 * Guide): log files are delivered as
 * `AWSLogs/[O-ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`
 * and digest files as
 * `AWSLogs/[O-ID/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHmmssZ.json.gz`.
 */

/** What a trail file's path tells about it. Every field is optional: only what the path states is set. */
export interface S3PathInfo {
  /** AWS Organizations organisation ID (`o-xxxx`) for an organisation trail. */
  orgId?: string;
  /** The 12-digit account whose activity the file records. */
  account?: string;
  /** The AWS Region of the file's events. */
  region?: string;
  /** `log` for a trail file, `digest` for a digest file. */
  fileType?: 'log' | 'digest';
  /** Trail name (digest files name it). */
  trail?: string;
  /** Trail home Region (digest files name it). */
  homeRegion?: string;
  /** Delivery (log) or digest end time from the file name, epoch ms UTC. */
  deliveryTime?: number;
}

const LOG_RE =
  /(?:^|\/)AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\d{12}_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json(?:\.gz)?$/;
const DIGEST_RE =
  /(?:^|\/)AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\d{12}_CloudTrail-Digest_[a-z0-9-]+_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8}T\d{6}Z)\.json(?:\.gz)?$/;
const LOG_NAME_RE = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json(?:\.gz)?$/;
const DIGEST_NAME_RE =
  /^(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8}T\d{6}Z)\.json(?:\.gz)?$/;

/** Parses `YYYYMMDDTHHmmZ` or `YYYYMMDDTHHmmssZ` (UTC) to epoch ms; NaN when malformed. */
export function parseCompactUtc(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z$/.exec(s);
  if (!m) return NaN;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  // Date.UTC rolls impossible fields over (month 13, 30 February, 24:00): those are malformed too
  const d = new Date(t);
  const same =
    d.getUTCFullYear() === +m[1] &&
    d.getUTCMonth() === +m[2] - 1 &&
    d.getUTCDate() === +m[3] &&
    d.getUTCHours() === +m[4] &&
    d.getUTCMinutes() === +m[5];
  return same && (!m[6] || d.getUTCSeconds() === +m[6]) ? t : NaN;
}

/**
 * Reads account, Region, trail and delivery time from a file path (an S3 key, or a local path that contains
 * one, or just the file name as CloudTrail names it). Returns `{}` for paths that follow no CloudTrail
 * convention. Never throws.
 */
export function parseS3Path(path: string): S3PathInfo {
  const p = path.replace(/\\/g, '/');
  // An archive member's path is `archive!member`: the member's own path is what follows the last '!'.
  const tail = p.includes('!') ? p.slice(p.lastIndexOf('!') + 1) : p;
  for (const candidate of [tail, p]) {
    let m = LOG_RE.exec(candidate);
    if (m) return { orgId: m[1], account: m[2], region: m[3], fileType: 'log', deliveryTime: parseCompactUtc(m[4]) };
    m = DIGEST_RE.exec(candidate);
    if (m)
      return {
        orgId: m[1],
        account: m[2],
        region: m[3],
        fileType: 'digest',
        trail: m[4],
        homeRegion: m[5],
        deliveryTime: parseCompactUtc(m[6]),
      };
  }
  const name = tail.slice(tail.lastIndexOf('/') + 1);
  let m = LOG_NAME_RE.exec(name);
  if (m) return { account: m[1], region: m[2], fileType: 'log', deliveryTime: parseCompactUtc(m[3]) };
  m = DIGEST_NAME_RE.exec(name);
  if (m)
    return {
      account: m[1],
      region: m[2],
      fileType: 'digest',
      trail: m[3],
      homeRegion: m[4],
      deliveryTime: parseCompactUtc(m[5]),
    };
  return {};
}

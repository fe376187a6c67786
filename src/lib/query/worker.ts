/// <reference lib="webworker" />
/**
 * The query worker: creates the {@link QueryService} and exposes it to the page with comlink. Nothing else lives
 * here (the service is tested in Node).
 */
import * as Comlink from 'comlink';
import { QueryService } from './service';

export type {
  CoverageResult,
  EventDetail,
  IndexStatus,
  LoadStats,
  QueryRequest,
  QueryResponse,
  RowView,
  SigmaPlaceholder,
  SigmaResult,
} from './service';

// (no top-level await: a module worker that awaits before exposing its API loses the messages sent meanwhile;
// every API call waits for the store to be open instead)
const service = new QueryService();

/** Names of the service's methods the page calls. */
const METHODS = [
  'open',
  'subscribe',
  'unsubscribeAll',
  'run',
  'page',
  'facets',
  'histogram',
  'indexOfEventId',
  'event',
  'eventById',
  'exportResult',
  'keys',
  'key',
  'findings',
  'coverage',
  'integrity',
  'sigma',
  'ingesting',
  'crossAccount',
  'clusters',
  'principals',
  'analysisMs',
  'eventId',
  'status',
  'loadStats',
  'reset',
  'storeClosing',
  'storeCleared',
  'storeMessage',
] as const satisfies readonly (keyof QueryService)[];

type Method = (typeof METHODS)[number];
type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** Type of the query worker's API: the service's methods, each waiting for the store to be open. */
export type QueryWorkerApi = { [K in Method]: Async<QueryService[K]> };

/** The API as exposed: every call first waits for the store to be open. */
const exposed = Object.fromEntries(
  METHODS.map((name) => [
    name,
    async (...args: unknown[]) => {
      await service.ready();
      return (service[name] as (...a: unknown[]) => unknown).apply(service, args);
    },
  ]),
) as QueryWorkerApi;
Comlink.expose(exposed);

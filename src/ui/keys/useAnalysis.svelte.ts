import { app } from '../state/app.svelte';

/**
 * Loads an analysis result from the query worker and reloads it when the stored events change (at most once
 * every 2 s during an ingest). Use inside a component: `const keys = useAnalysis(() => app.query.keys())`.
 */
export function useAnalysis<T>(load: () => Promise<T>): {
  readonly value: T | null;
  readonly loading: boolean;
  readonly ms: number;
} {
  let value = $state.raw<T | null>(null);
  let loading = $state(true);
  let ms = $state(0);
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = async () => {
    loading = true;
    const t0 = performance.now();
    try {
      value = await load();
    } finally {
      ms = performance.now() - t0;
      loading = false;
      last = performance.now();
    }
  };
  $effect(() => {
    void app.indexVersion;
    if (timer) return;
    timer = setTimeout(
      () => {
        timer = null;
        void run();
      },
      value === null ? 0 : Math.max(0, 2000 - (performance.now() - last)),
    );
    return () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
  });
  return {
    get value() {
      return value;
    },
    get loading() {
      return loading;
    },
    get ms() {
      return ms;
    },
  };
}

/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from 'virtual:pwa-register';

/** What the service worker told the page. */
export interface PwaEvents {
  /** Every file of the app is cached: it now works with the network off. */
  onOfflineReady(): void;
  /** A new version is installed and waits: ask the user before switching to it. */
  onNeedRefresh(): void;
}

let update: ((reload?: boolean) => Promise<void>) | null = null;
let accepted = false;

/**
 * Registers the app's service worker (Workbox, precache only; built by vite-plugin-pwa), relative to the
 * page, so it works from any sub-path. A new version never takes over by itself: it waits until the user
 * accepts it in this tab ({@link applyUpdate}); other tabs that see the switch are told, not reloaded, so an
 * ingest running there is not interrupted. The service worker only serves the app's own files from Cache
 * Storage: stored events (IndexedDB) are never touched by an update.
 */
export function startPwa(events: PwaEvents & { onActivatedElsewhere(): void }): void {
  if (!('serviceWorker' in navigator)) return;
  update = registerSW({
    immediate: true,
    onOfflineReady: () => events.onOfflineReady(),
    onNeedRefresh: () => events.onNeedRefresh(),
    onNeedReload: () => {
      if (accepted) location.reload();
      else events.onActivatedElsewhere();
    },
    onRegisterError: (err: unknown) =>
      console.warn('KeyTrail: service worker not registered; the app will not work offline.', err),
  });
}

/** Switches to the waiting version (the page reloads once the new service worker controls it). */
export async function applyUpdate(): Promise<void> {
  accepted = true;
  // A page not yet controlled (the very first visit) gets no `controlling` event: reload once the new worker is active.
  const waiting = (await navigator.serviceWorker.getRegistration())?.waiting;
  if (waiting && !navigator.serviceWorker.controller) {
    waiting.addEventListener('statechange', () => waiting.state === 'activated' && location.reload());
  }
  await update?.(true);
}

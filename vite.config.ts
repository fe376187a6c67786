import { configDefaults, defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';

/**
 * The Content-Security-Policy of index.html's meta tag, which the built HTML carries wherever it is served.
 * `vite preview` (and so the Playwright tests) also sends it as a header, with what a meta tag cannot say
 * (frame-ancestors): a header covers the workers and the service worker too, a meta tag only the page.
 */
const CSP = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
  readFileSync(new URL('./index.html', import.meta.url), 'utf8'),
)![1];

/** The headers worth setting on any host (README, "Hosting the built site"). */
export const HOSTING_HEADERS: Record<string, string> = {
  'Content-Security-Policy': `${CSP}; frame-ancestors 'none'`,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** Colours of the app's header and page (src/ui/common/global.css), for the manifest and the browser chrome. */
const THEME = '#14324a';
const BACKGROUND = '#f6f7f9';

/**
 * Unit test files of the `slow` vitest project: each takes more than a few seconds alone (whole corpora, bombs of
 * 300 MiB, 100,000-key and 200,000-event property runs, hundreds of engine-vs-reference queries). A slow part of a
 * test file goes to a file of its own listed here (engine-reference, open-bombs, kms-volume), so the rest stays fast. Every other
 * test file under `tests/unit/` is in `fast` (`npm run test:fast`, feedback in well under a minute); `npm run test:unit`
 * runs both.
 */
const SLOW_TESTS = [
  'tests/unit/engine-reference.test.ts',
  'tests/unit/open-bombs.test.ts',
  'tests/unit/hostile.test.ts',
  'tests/unit/hashmap.test.ts',
  'tests/unit/kms-volume.test.ts',
  'tests/unit/writer.test.ts',
  'tests/unit/conformance.test.ts',
  'tests/unit/byRecord-volume.test.ts',
  'tests/unit/deliveryScan-volume.test.ts',
  'tests/unit/crossAccount-volume.test.ts',
];

// Relative base: the built dist/ works from any sub-path of any static host (`/`, `/tools/keytrail/`).
export default defineConfig({
  base: './',
  plugins: [
    svelte(),
    // Offline and installable: a Workbox service worker precaches every file of the build (app shell, workers,
    // icons and the sample data), so after one online visit the app loads, ingests and searches with the
    // network off. `prompt`: a new version waits until the user accepts it (src/ui/common/UpdatePrompt.svelte);
    // nothing is cached at run time, and user data lives only in IndexedDB, which the service worker never touches.
    VitePWA({
      registerType: 'prompt',
      // registered from src/ui/common/pwa.ts: no inline script (the CSP allows none)
      injectRegister: false,
      // the icons and the manifest are precached by the glob below (listing them twice is harmless but noisy)
      includeManifestIcons: false,
      manifest: {
        id: './',
        name: 'KeyTrail: CloudTrail for KMS & CloudHSM investigations',
        short_name: 'KeyTrail',
        description:
          'Offline analyser of AWS CloudTrail logs for AWS KMS and AWS CloudHSM investigations. Nothing leaves your machine.',
        start_url: './',
        scope: './',
        display: 'standalone',
        theme_color: THEME,
        background_color: BACKGROUND,
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // every file of the build: the app, its workers, icons and the sample data
        globPatterns: ['**/*'],
        globIgnores: ['manifest.webmanifest'], // added by the plugin itself
        // the largest chunk is well under this; the cap only guards against silently dropping a file
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        // hashed file names need no cache-busting revision
        dontCacheBustURLsMatching: /-[A-Za-z0-9_-]{8,}\.(?:js|css)$/,
        navigateFallback: 'index.html',
        cleanupOutdatedCaches: true,
        clientsClaim: false,
        skipWaiting: false,
        // one file: the service worker needs no second script
        inlineWorkboxRuntime: true,
        sourcemap: false,
        runtimeCaching: [],
      },
    }),
  ],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 800 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1', headers: HOSTING_HEADERS },
  test: {
    environment: 'node',
    testTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['tests/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW_TESTS],
        },
      },
      { extends: true, test: { name: 'slow', include: SLOW_TESTS } },
    ],
  },
});

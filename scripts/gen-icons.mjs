#!/usr/bin/env node
/**
 * Renders the web app manifest's PNG icons from public/favicon.svg with headless Chromium (Playwright,
 * Debian's /usr/bin/chromium or CHROMIUM_PATH): no native image libraries needed. The PNGs are committed;
 * run this again only when the SVG changes.
 *
 *   node scripts/gen-icons.mjs
 *
 * Output (public/icons/): icon-192.png, icon-512.png (transparent corners, as the SVG), maskable-512.png
 * (full-bleed background, the artwork inside the 80% safe zone), apple-touch-icon-180.png (opaque).
 */
import { chromium } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const svg = readFileSync(`${root}public/favicon.svg`, 'utf8');
const BG = '#14324a';
const out = `${root}public/icons/`;
mkdirSync(out, { recursive: true });

/** name, size, artwork scale (1 = the whole canvas), opaque background. */
const ICONS = [
  ['icon-192.png', 192, 1, false],
  ['icon-512.png', 512, 1, false],
  ['maskable-512.png', 512, 0.8, true],
  ['apple-touch-icon-180.png', 180, 0.86, true],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  for (const [name, size, scale, opaque] of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const art = Math.round(size * scale);
    await page.setContent(
      `<html><body style="margin:0;width:${size}px;height:${size}px;display:flex;align-items:center;justify-content:center;background:${opaque ? BG : 'transparent'}">` +
        svg.replace('<svg ', `<svg width="${art}" height="${art}" `) +
        '</body></html>',
    );
    const png = await page.screenshot({ omitBackground: !opaque, clip: { x: 0, y: 0, width: size, height: size } });
    writeFileSync(out + name, png);
    console.log(`${name}: ${png.length} bytes`);
    await page.close();
  }
} finally {
  await browser.close();
}

// Screenshots of a few pages as the office, at desktop and phone sizes:
//   node shot.mjs BASE USER PASSWORD OUTDIR PATH...
import { chromium } from 'playwright-core';
import fs from 'node:fs';
const [base, user, pass, out, ...paths] = process.argv.slice(2);
const dir = fs.mkdtempSync('/tmp/pingan-shot-');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${dir}`],
});
for (const [w, h] of [[1440, 900], [390, 844]]) {
  const page = await browser.newPage({ viewport: { width: w, height: h } });
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', pass);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  for (const p of paths) {
    const t0 = Date.now();
    await page.goto(base + p, { waitUntil: 'load' });
    const name = `${out}/${p.replace(/[^a-z0-9]+/gi, '_')}_${w}.png`;
    await page.screenshot({ path: name, fullPage: false });
    console.log(`${w} ${p} ${Date.now() - t0} ms ${name}`);
  }
  await page.close();
}
await browser.close();

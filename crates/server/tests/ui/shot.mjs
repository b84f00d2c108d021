// Screenshots of a few pages as a signed-in user, at desktop and phone sizes:
//   node shot.mjs BASE USER PASSWORD OUTDIR PATH...
import { chromium } from 'playwright-core';
import fs from 'node:fs';
const [base, user, pass, out, ...paths] = process.argv.slice(2);
for (const [w, h] of [[1440, 900], [390, 844]]) {
  const profile = fs.mkdtempSync('/tmp/pingan-shot-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: w, height: h },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
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
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

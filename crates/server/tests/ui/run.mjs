// The headless-browser suite for the pingan web pages (issue 6): Debian's
// Chromium, driven by playwright-core, signs in through the login form as
// every role, opens every page of its navigation, waits for every chart,
// compares the ranking with the JSON API, drills down, downloads an Excel
// export and reads it, checks the county scope, the audit chain check,
// logout and the phone layout, and proves that no request leaves
// 127.0.0.1. Run by crates/server/tests/browser.rs against a server it
// starts; it can also run by hand against any instance:
//
//   PINGAN_UI_BASE=http://127.0.0.1:8080 PINGAN_UI_PASSWORD=… \
//   PINGAN_UI_OWN_COUNTY=… PINGAN_UI_OTHER_COUNTY=… PINGAN_UI_SHOTS=/tmp/shots \
//   node crates/server/tests/ui/run.mjs
//
// Exit 0 when every check passes; otherwise every failed check is printed
// (one per line, after "FAIL") and the exit code is 1.

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const CHROMIUM = '/usr/bin/chromium';
const YEAR = '2024';
// Paths a scenario expects an error status from (not reported as failures).
const expectedErrors = new Set();
const CHART_TIMEOUT = 20000;

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: environment variable ${name} is not set`);
    process.exit(1);
  }
  return v;
}

const BASE = env('PINGAN_UI_BASE').replace(/\/+$/, '');
const PASSWORD = env('PINGAN_UI_PASSWORD');
const OWN_COUNTY = env('PINGAN_UI_OWN_COUNTY');
const OTHER_COUNTY = env('PINGAN_UI_OTHER_COUNTY');
const SHOTS = env('PINGAN_UI_SHOTS');

const USERS = ['office', 'county', 'super', 'auditor', 'sysadmin', 'secadmin', 'dept', 'expert', 'collector', 'verifier'];

const failures = [];
const notes = [];
const t0 = Date.now();

function fail(msg) {
  failures.push(msg);
  console.log(`  ✗ ${msg}`);
}
function check(cond, msg) {
  if (!cond) fail(msg);
  return !!cond;
}
function log(msg) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}
function path(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

// ---------------------------------------------------------------- xlsx ----
// An .xlsx is a zip of XML files: read the central directory, inflate the
// entries we need with node's zlib, and take the first sheet's cells.

function unzip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    p += 46 + nlen + xlen + clen;
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad zip local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    files.set(name, () => {
      if (method === 0) return raw.toString('utf8');
      if (method === 8) return inflateRawSync(raw).toString('utf8');
      throw new Error(`zip method ${method} for ${name}`);
    });
  }
  return files;
}

function xmlText(s) {
  return s
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(+n))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}

function joined(fragment) {
  return [...fragment.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g)].map((m) => xmlText(m[1])).join('');
}

/** The first sheet of an .xlsx as rows of cell values (strings or numbers). */
function readFirstSheet(buf) {
  const files = unzip(buf);
  const read = (name) => {
    const f = files.get(name);
    if (!f) throw new Error(`xlsx has no ${name}`);
    return f();
  };
  const wb = read('xl/workbook.xml');
  const sheet = wb.match(/<sheet\s[^>]*?r:id="([^"]+)"/);
  if (!sheet) throw new Error('xlsx workbook lists no sheet');
  const rels = read('xl/_rels/workbook.xml.rels');
  let target = null;
  for (const m of rels.matchAll(/<Relationship\s[^>]*>/g)) {
    const id = m[0].match(/Id="([^"]+)"/);
    const t = m[0].match(/Target="([^"]+)"/);
    if (id && t && id[1] === sheet[1]) target = t[1];
  }
  if (!target) throw new Error(`xlsx relationship ${sheet[1]} not found`);
  target = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  const shared = files.has('xl/sharedStrings.xml')
    ? [...read('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => joined(m[1]))
    : [];
  const rows = [];
  for (const r of read(target).matchAll(/<row\b[^>]*?(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const row = [];
    for (const c of (r[1] || '').matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const ref = (c[1].match(/\br="([A-Z]+)\d+"/) || [])[1];
      let col = row.length;
      if (ref) col = [...ref].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
      const type = (c[1].match(/\bt="([^"]+)"/) || [])[1];
      const inner = c[2] || '';
      const v = (inner.match(/<v>([\s\S]*?)<\/v>/) || [])[1];
      let value = '';
      if (type === 's') value = shared[+v] ?? '';
      else if (type === 'inlineStr') value = joined(inner);
      else if (type === 'str' || type === 'e') value = v == null ? '' : xmlText(v);
      else if (type === 'b') value = v === '1';
      else if (v != null) value = Number(v);
      row[col] = value;
    }
    rows.push(row);
  }
  return rows;
}

// ------------------------------------------------------------- helpers ----

/** Each `div[data-chart]` gets data-rendered="1" and a non-empty canvas. */
async function checkCharts(page, where) {
  const charts = await page.$$eval('div[data-chart]', (els) => els.map((e) => e.getAttribute('data-chart')));
  for (let i = 0; i < charts.length; i++) {
    const name = `${where}: chart div[data-chart="${charts[i]}"]`;
    try {
      await page.waitForFunction(
        (k) => document.querySelectorAll('div[data-chart]')[k]?.getAttribute('data-rendered') === '1',
        i,
        { timeout: CHART_TIMEOUT },
      );
    } catch {
      fail(`${name} did not get data-rendered="1" within ${CHART_TIMEOUT / 1000}s`);
      continue;
    }
    const c = await page.evaluate((k) => {
      const el = document.querySelectorAll('div[data-chart]')[k];
      const cv = el.querySelector('canvas');
      if (!cv) return null;
      const b = cv.getBoundingClientRect();
      return { w: cv.width, h: cv.height, bw: b.width, bh: b.height };
    }, i);
    if (check(c, `${name} has no canvas`)) {
      check(c.w > 0 && c.h > 0 && c.bw > 0 && c.bh > 0,
        `${name}: canvas is empty (${c.w}×${c.h}, shown ${c.bw}×${c.bh})`);
    }
  }
  return charts;
}

/** A page of the app: a heading or a table, no error banner, every chart drawn. */
async function checkPage(page, where) {
  const info = await page.evaluate(() => {
    const h2 = [...document.querySelectorAll('h2')].some((h) => h.textContent.trim() !== '');
    const table = document.querySelector('table') !== null;
    // The one red banner that is content, not an error: a region's veto.
    const errors = [...document.querySelectorAll('.banner.error')]
      .filter((b) => b.id !== 'veto-status' && !b.textContent.includes('一票否决'))
      .map((b) => b.textContent.trim());
    return { h2, table, errors, title: document.title };
  });
  check(info.h2 || info.table, `${where}: no non-empty h2 and no table (title "${info.title}")`);
  check(info.errors.length === 0, `${where}: error banner: ${info.errors.join(' | ')}`);
  return checkCharts(page, where);
}

async function goto(page, url, where, expectStatus = 200) {
  const resp = await page.goto(BASE + url, { waitUntil: 'load' });
  const status = resp ? resp.status() : 0;
  check(status === expectStatus, `${where}: GET ${url} answered ${status}, expected ${expectStatus}`);
  return status;
}

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

async function login(page, user) {
  await goto(page, '/login', `login page for ${user}`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await clickAndWait(page, page.locator('form#login button[type="submit"]'));
  const url = new URL(page.url());
  if (url.pathname === '/login') {
    const msg = await page.locator('#login-message').textContent().catch(() => '(no #login-message)');
    throw new Error(`login as ${user} failed: ${msg}`);
  }
}

async function logout(page, user) {
  await clickAndWait(page, page.locator('#logout'));
  const p = new URL(page.url()).pathname;
  check(p === '/login', `${user}: #logout led to ${page.url()}, expected /login`);
  // The session is over: the dashboard sends us back to the login page.
  await page.goto(`${BASE}/`);
  check(new URL(page.url()).pathname === '/login', `${user}: after logout / did not go to /login (${page.url()})`);
}

async function api(page, url) {
  const r = await page.request.get(BASE + url);
  if (r.status() !== 200) throw new Error(`GET ${url} answered ${r.status()}: ${(await r.text()).slice(0, 300)}`);
  return r.json();
}

/** The ranking table's rows: region code, rank and total, hidden rows too. */
function rankingRows(page) {
  return page.$$eval('table#ranking tbody tr[data-region]', (trs) => trs.map((tr) => ({
    region: tr.getAttribute('data-region'),
    rank: tr.querySelector('td.rank')?.textContent.trim(),
    total: tr.querySelector('td.total')?.getAttribute('data-value'),
  })));
}

/** Compare the table's rows with API results (same codes, rank, total). */
function compareRanking(rows, results, where) {
  const want = new Map(results.map((r) => [r.region, r]));
  const got = new Map(rows.map((r) => [r.region, r]));
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  check(missing.length === 0 && extra.length === 0 && rows.length === results.length,
    `${where}: ranking regions differ from the API (missing ${missing.join(',') || '-'}, extra ${extra.join(',') || '-'}, ${rows.length} rows vs ${results.length})`);
  check(results.length > 0, `${where}: the API returned no results to compare with`);
  for (const [code, r] of want) {
    const g = got.get(code);
    if (!g) continue;
    check(Number(g.rank) === r.rank, `${where}: ${code} rank ${g.rank} in the table, ${r.rank} in the API`);
    const t = Number(g.total);
    check(Number.isFinite(t) && Math.abs(t - r.total) <= 1e-9,
      `${where}: ${code} total ${g.total} in the table, ${r.total} in the API`);
  }
}

async function crumbs(page) {
  return page.$$eval('.crumb > a, .crumb > span:not(.sep)', (xs) => xs.map((x) => x.textContent.trim()));
}

/** Elements that stick out to the right of `limit` px, outside scrolling boxes. */
async function overflowing(page, limit) {
  return page.evaluate((limit) => {
    const clipped = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== 'visible') return true;
      }
      return false;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') +
      [...el.classList].map((c) => `.${c}`).join('');
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 || b.right <= limit || clipped(el)) continue;
      // Report the outermost offender only.
      if (out.some((o) => o.el.contains(el))) continue;
      out.push({ el, text: `${name(el)} (right edge ${Math.round(b.right)}px, width ${Math.round(b.width)}px)` });
    }
    return out.slice(0, 8).map((o) => o.text);
  }, limit);
}

// ---------------------------------------------------------- scenarios ----

async function officeChecks(page) {
  // The province root: ranking of the cities against the API.
  await goto(page, '/', 'office dashboard');
  const period = await page.$eval('#period', (s) => s.value).catch(() => null);
  check(period === YEAR, `office /: year picker #period shows ${period}, expected ${YEAR}`);
  const rows = await rankingRows(page);
  const cities = (await api(page, `/api/v1/scores?period=${YEAR}&level=city`)).results;
  compareRanking(rows, cities, 'office / (province)');
  log(`  ranking: ${rows.length} cities match /api/v1/scores`);

  // Export the ranking and read the workbook.
  try {
    const link = page.locator('a.export').first();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), link.click()]);
    const file = join(SHOTS, 'ranking-export.xlsx');
    await download.saveAs(file);
    const sheet = readFirstSheet(readFileSync(file));
    const head = (sheet[0] || []).map(String);
    check(head.includes('排名') && head.includes('总分'),
      `ranking export: header row is [${head.join(', ')}], expected 排名 and 总分`);
    const data = sheet.slice(1).filter((r) => r.some((v) => v !== '' && v != null));
    check(data.length === rows.length,
      `ranking export: ${data.length} data rows, the ranking table has ${rows.length}`);
    const codeCol = head.indexOf('地区代码');
    if (codeCol >= 0) {
      const codes = new Set(data.map((r) => String(r[codeCol])));
      check(rows.every((r) => codes.has(r.region)), `ranking export: region codes differ from the table`);
    }
    const rankCol = head.indexOf('排名');
    const totalCol = head.indexOf('总分');
    if (codeCol >= 0 && rankCol >= 0 && totalCol >= 0) {
      for (const r of data) {
        const api = cities.find((c) => c.region === String(r[codeCol]));
        if (!api) continue;
        // Excel keeps six decimals (no float noise); the API keeps every digit.
        check(Number(r[rankCol]) === api.rank && Math.abs(Number(r[totalCol]) - api.total) <= 1e-6,
          `ranking export: ${api.region} has rank ${r[rankCol]} total ${r[totalCol]}, API ${api.rank} ${api.total}`);
      }
    }
    log(`  export: ${download.suggestedFilename()} with ${data.length} rows, header ${head.slice(0, 4).join('/')}…`);
  } catch (e) {
    fail(`ranking export: ${e.message}`);
  }

  // Screenshots of the dashboard, desktop width.
  await page.screenshot({ path: join(SHOTS, 'dashboard-1366x768.png') });
  await page.screenshot({ path: join(SHOTS, 'dashboard-1366x768-full.png'), fullPage: true });

  // Drill down: province → city → county.
  let before = await crumbs(page);
  const levels = [['city', 'county'], ['county', 'township']];
  let county = null;
  for (const [level, childLevel] of levels) {
    const drill = page.locator('table#ranking tbody tr[data-region] a.drill').first();
    if (!(await drill.count())) {
      fail(`drill-down at ${level}: no a.drill link in table#ranking`);
      return null;
    }
    const code = await drill.evaluate((a) => a.closest('tr').getAttribute('data-region'));
    const name = (await drill.textContent()).trim();
    await clickAndWait(page, drill);
    const where = `drill-down to ${level} ${code} ${name} (${path(page.url())})`;
    await checkPage(page, where);
    const now = await crumbs(page);
    check(now.length === before.length + 1,
      `${where}: breadcrumb [${now.join(' / ')}] does not grow by one from [${before.join(' / ')}]`);
    check(now[now.length - 1] === name, `${where}: breadcrumb ends with "${now[now.length - 1]}", expected "${name}"`);
    const kids = (await api(page, `/api/v1/scores?period=${YEAR}&level=${childLevel}`)).results
      .filter((r) => r.parent === code);
    compareRanking(await rankingRows(page), kids, where);
    log(`  drilled to ${level} ${name}: ${kids.length} ${childLevel} rows, breadcrumb ${now.join(' / ')}`);
    before = now;
    if (level === 'county') county = code;
  }

  // The region page of that county.
  if (county) {
    const where = `office /region/${county}`;
    await goto(page, `/region/${county}?period=${YEAR}`, where);
    await checkPage(page, where);
    const n = await page.locator('table#indicators tbody tr').count();
    check(n >= 40, `${where}: table#indicators has ${n} rows, expected ≥ 40`);
    check(await page.locator('#veto-status').count() === 1, `${where}: #veto-status missing`);
    const trend = await page.locator('div[data-chart="trend"]').count();
    check(trend === 1, `${where}: no trend chart (div[data-chart="trend"])`);
    await page.screenshot({ path: join(SHOTS, 'region-1366x768.png') });
    await page.screenshot({ path: join(SHOTS, 'region-1366x768-full.png'), fullPage: true });
    log(`  region page: ${n} indicators`);

    // Its 测评报告: the print view from the region page's button, and the
    // Word file from the print view's, with the region's total in it.
    try {
      const total = (await page.locator('#region-total').textContent()).trim();
      await clickAndWait(page, page.locator(`a[href^="/report/${county}"]`).first());
      await checkPage(page, `report of ${county}`);
      const overall = await page.locator('#report-overall').textContent();
      check(overall.includes(`总分 ${total} 分`), `report of ${county}: "${overall}" lacks the total ${total}`);
      const radar = await page.locator('figure[data-chart="radar"] svg').count();
      check(radar === 1, `report of ${county}: no radar chart drawn by the server`);
      for (const [w, h] of [[1440, 900], [390, 844]]) {
        await page.setViewportSize({ width: w, height: h });
        await page.screenshot({ path: join(SHOTS, `report-${w}x${h}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1366, height: 768 });
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 20000 }),
        page.locator('#report-docx').click(),
      ]);
      const file = join(SHOTS, 'report.docx');
      await download.saveAs(file);
      const xml = unzip(readFileSync(file)).get('word/document.xml')();
      const doc = [...xml.matchAll(/<w:t(?:\s[^>]*)?>([\s\S]*?)<\/w:t>/g)].map((m) => xmlText(m[1])).join('');
      check(doc.includes(`总分 ${total} 分`), `report.docx of ${county}: the total ${total} is not in the text`);
      check(download.suggestedFilename().endsWith('平安建设测评报告.docx'),
        `report download named ${download.suggestedFilename()}`);
      log(`  report: ${download.suggestedFilename()}, total ${total}`);
    } catch (e) {
      fail(`report of ${county}: ${e.message}`);
    }
  }

  // Phone width: the dashboard must not scroll sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await goto(page, '/', 'office dashboard at 390px');
  await checkCharts(page, 'office / at 390×844');
  await page.screenshot({ path: join(SHOTS, 'dashboard-390x844.png'), fullPage: true });
  const widths = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth,
    body: document.body.scrollWidth,
  }));
  if (!check(widths.doc <= 410 && widths.body <= 410,
    `dashboard at 390×844 overflows horizontally: documentElement.scrollWidth ${widths.doc}px, body.scrollWidth ${widths.body}px (limit 410)`)) {
    const wide = await overflowing(page, 410);
    fail(`dashboard at 390×844: elements past 410px outside a scrolling box: ${wide.join('; ') || '(none found)'}`);
  }
  log(`  phone width: scrollWidth ${widths.doc}px`);
  // Every menu entry is on screen (the strip wraps; nothing hides past the edge).
  const offscreen = await page.$$eval('.side nav a', (as) => as
    .filter((a) => { const r = a.getBoundingClientRect(); return r.right > window.innerWidth || r.width === 0; })
    .map((a) => a.textContent));
  check(offscreen.length === 0, `dashboard at 390×844: menu entries off screen: ${offscreen.join('、')}`);
  await page.setViewportSize({ width: 1366, height: 768 });
}

// 网格事件 with a year of events: the chart, the overdue list, both sizes.
async function eventsChecks(page) {
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    const where = `office /events at ${w}×${h}`;
    await goto(page, `/events?year=${YEAR}`, where);
    await checkPage(page, where);
    const total = parseInt(await page.locator('#grid-total').textContent(), 10);
    check(total > 0, `${where}: no grid events counted`);
    check(await page.locator('table#overdue tbody tr').count() > 0, `${where}: the overdue list is empty`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(width <= w + 20, `${where} overflows horizontally: scrollWidth ${width}px`)) {
      fail(`${where}: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `office-events-${w}x${h}.png`), fullPage: true });
    // Drill down: the total opens 事件清单, filtered by the form.
    await page.locator('#grid-total a').click();
    await page.waitForLoadState('domcontentloaded');
    const listed = parseInt(await page.locator('#list-total').textContent(), 10);
    check(listed === total, `${where}: 事件清单 lists ${listed} grid events, the page counted ${total}`);
    await checkPage(page, `${where} 事件清单`);
    await page.locator('#event-filters select[name="state"]').selectOption('overdue');
    await page.locator('#event-filters button[type="submit"]').click();
    await page.waitForLoadState('domcontentloaded');
    const overdue = parseInt(await page.locator('#list-total').textContent(), 10);
    check(overdue > 0 && overdue < listed, `${where}: 超时未处置 filter gave ${overdue} of ${listed}`);
    check(await page.locator('#export-events').count() === 1, `${where}: no Excel export on 事件清单`);
    const lw = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(lw <= w + 20, `${where} 事件清单 overflows horizontally: scrollWidth ${lw}px`)) {
      fail(`${where} 事件清单: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `office-events-list-${w}x${h}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  log('  网格事件: months, overdue list and call-outs, drill-down to 事件清单 with a filter, at 1440×900 and 390×844');
}

// 平安热力图 and 风险预警 (issue 22): the map has a canvas with something
// drawn, a click on a region drills down; a warning is sent with a field
// task and shows on that region's home page; both sizes, no sideways scroll.
async function mapChecks(page) {
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    const where = `office /map at ${w}×${h}`;
    await goto(page, `/map?period=${YEAR}`, where);
    await checkPage(page, where);
    const painted = await page.evaluate(() => {
      const cv = document.querySelector('div[data-chart="map"] canvas');
      if (!cv) return 0;
      const ctx = cv.getContext('2d');
      const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4 * 16) if (d[i] > 0) n++;
      return n;
    });
    check(painted > 100, `${where}: the map canvas is blank (${painted} painted samples)`);
    const rows = await page.locator('table#map-table tbody tr').count();
    check(rows > 0, `${where}: no regions listed under the map`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(width <= w + 20, `${where} overflows horizontally: scrollWidth ${width}px`)) {
      fail(`${where}: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `office-map-${w}x${h}.png`), fullPage: true });
    const rw = `office /risk at ${w}×${h}`;
    await goto(page, '/risk', rw);
    await checkPage(page, rw);
    check(await page.locator('table#risk-backtest tbody tr').count() === 8, `${rw}: the backtest table has not 8 elements`);
    check(await page.locator('#risk-detail div[data-chart="risk"]').count() === 1, `${rw}: no chart for the first warning`);
    const rwidth = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(rwidth <= w + 20, `${rw} overflows horizontally: scrollWidth ${rwidth}px`)) {
      fail(`${rw}: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `office-risk-${w}x${h}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  // Drill down by clicking the first region of the map's table.
  await goto(page, `/map?period=${YEAR}&by=risk`, 'office /map by risk');
  await checkPage(page, 'office /map by risk');
  const first = await page.locator('table#map-table tbody tr').first().getAttribute('data-region');
  await clickAndWait(page, page.locator('table#map-table tbody tr a').first());
  check(page.url().includes(`region=${first}`), `map drill-down went to ${path(page.url())}`);
  await checkPage(page, 'office /map drilled down');
  // Send the first warning with a field task; it shows on its region's home page.
  await goto(page, '/risk', 'office /risk send');
  const row = page.locator('table#risk-warnings tbody tr').first();
  const region = await row.getAttribute('data-region');
  await row.locator('input[name="task"]').check();
  await clickAndWait(page, row.locator('button[type="submit"]'));
  const banner = await page.locator('.banner').first().textContent().catch(() => '');
  check(/已下发预警，并创建实地核查任务 \d+/.test(banner || ''), `sending a warning: banner "${banner}"`);
  await goto(page, `/?region=${region}&period=${YEAR}`, 'warned region home');
  check(await page.locator('#risk-warned').count() === 1, `the region ${region}'s home page shows no risk notice`);
  log('  平安热力图 and 风险预警: map drawn, drill-down, warning sent with a field task and shown at home, at 1440×900 and 390×844');
}

async function countyChecks(page) {
  await goto(page, '/', 'county dashboard');
  const rows = await rankingRows(page);
  const towns = (await api(page, `/api/v1/scores?period=${YEAR}&level=township`)).results
    .filter((r) => r.parent === OWN_COUNTY);
  compareRanking(rows, towns, `county / (own county ${OWN_COUNTY})`);
  const picked = await page.$eval('#pickers input[name="region"]', (i) => i.value).catch(() => null);
  check(picked === OWN_COUNTY, `county /: the page shows region ${picked}, expected ${OWN_COUNTY}`);
  log(`  county dashboard: ${rows.length} townships of ${OWN_COUNTY}`);
  await goto(page, `/region/${OTHER_COUNTY}?period=${YEAR}`, `county /region/${OTHER_COUNTY} (another county)`, 403);
  await goto(page, `/?region=${OTHER_COUNTY}&period=${YEAR}`, `county /?region=${OTHER_COUNTY} (another county)`, 403);
  const r = await page.request.get(`${BASE}/export/ranking.xlsx?region=${OTHER_COUNTY}&period=${YEAR}`);
  check(r.status() === 403, `county: export of another county answered ${r.status()}, expected 403`);
  log(`  another county ${OTHER_COUNTY}: 403`);
  // On a phone: the county's own pages read without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [u, what] of [[`/region/${OWN_COUNTY}?period=${YEAR}`, 'region page'], ['/work', '工作台'], ['/', 'dashboard']]) {
    await goto(page, u, `county ${what} at 390px`);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(w <= 410, `county ${what} at 390×844 overflows horizontally: scrollWidth ${w}px`)) {
      fail(`county ${what} at 390×844: ${(await overflowing(page, 410)).join('; ') || '(none found)'}`);
    }
  }
  await page.screenshot({ path: join(SHOTS, 'county-dashboard-390x844.png'), fullPage: true });
  await page.setViewportSize({ width: 1366, height: 768 });
}

// 群众调查: each index with its interval drawn, last year's beside it and
// the change judged; the children drilled into; the plan set and listed.
// At 1440×900 and on a phone, with nothing sticking out sideways.
async function surveyChecks(page, user) {
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    const where = `${user} /surveys at ${w}×${h}`;
    await goto(page, `/surveys?year=${YEAR}`, where);
    await checkPage(page, where);
    const rows = await page.locator('table#indices tbody tr').count();
    check(rows === 9, `${where}: ${rows} indices, expected the nine survey elements`);
    const judged = await page.$$eval('table#indices tbody tr td:last-child', (tds) => tds.map((t) => t.textContent.trim()));
    check(judged.every((t) => ['显著上升', '显著下降', '变化不显著', '—'].includes(t)),
      `${where}: the change column says ${judged.join('、')}`);
    check(judged.some((t) => t !== '—'), `${where}: no index compared with last year`);
    const valid = await page.$eval('#valid-rate', (e) => e.textContent.trim()).catch(() => '');
    check(/%$/.test(valid), `${where}: 有效回收率 shows "${valid}"`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(width <= w + 20, `${where} overflows horizontally: scrollWidth ${width}px`)) {
      fail(`${where}: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `${user}-surveys-${w}x${h}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  const first = page.locator('table#children tbody tr a').first();
  const name = (await first.textContent()).trim();
  await clickAndWait(page, first);
  const trail = await crumbs(page);
  check(trail[0] === '群众调查' && trail[trail.length - 1] === name,
    `${user} /surveys: drilling into ${name} shows crumbs ${trail.join(' / ')}`);
  await checkPage(page, `${user} /surveys drilled into ${name}`);
  // The fieldwork board, on a phone too.
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    const where = `${user} /surveys/fieldwork at ${w}×${h}`;
    await goto(page, `/surveys/fieldwork?year=${YEAR}`, where);
    await checkPage(page, where);
    const quotas = await page.locator('table#quotas tbody tr').count();
    check(quotas > 0, `${where}: no quota rows`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= w + 20, `${where} overflows horizontally: scrollWidth ${width}px`);
    await page.screenshot({ path: join(SHOTS, `${user}-fieldwork-${w}x${h}.png`), fullPage: true });
  }
  // 群众意见: the words most named, with examples, on a phone too.
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    const where = `${user} /surveys/comments at ${w}×${h}`;
    await goto(page, `/surveys/comments?year=${YEAR}`, where);
    await checkPage(page, where);
    const words = await page.locator('table#words tbody tr').count();
    check(words > 0, `${where}: no keyword rows`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(width <= w + 20, `${where} overflows horizontally: scrollWidth ${width}px`)) {
      fail(`${where}: ${(await overflowing(page, w + 20)).join('; ') || '(none found)'}`);
    }
    await page.screenshot({ path: join(SHOTS, `${user}-comments-${w}x${h}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  if (user !== 'office') return;
  // The office puts the first word on the problem list.
  await goto(page, `/surveys/comments?year=${YEAR}`, 'office /surveys/comments');
  const word = (await page.locator('table#words tbody tr td strong').first().textContent()).trim();
  await clickAndWait(page, page.locator('table#words tbody tr').first().locator('button'));
  const sent = await page.$eval('.banner.ok', (b) => b.textContent).catch(() => '');
  check(sent.includes(word) && sent.includes('问题清单'), `office /surveys/comments: listing “${word}” said "${sent}"`);
  const listed = await page.locator('table#words tbody tr').first().textContent();
  check(listed.includes('已列入'), 'office /surveys/comments: the listed word is not marked 已列入');
  await goto(page, `/surveys/plan?year=${YEAR}`, 'office /surveys/plan');
  await page.fill('#p-size', '1200');
  await clickAndWait(page, page.locator('form#plan-form button[type="submit"]'));
  const ok = await page.$eval('.banner.ok', (b) => b.textContent).catch(() => '');
  check(ok.includes('已保存'), `office /surveys/plan: saving the plan said "${ok}"`);
  const planned = await page.locator('table#plan tbody tr').count();
  check(planned > 0, 'office /surveys/plan: no township in the plan');
  await page.screenshot({ path: join(SHOTS, 'office-survey-plan-1440x900.png'), fullPage: true });
  log(`  群众调查: nine indices with intervals compared with last year, drilled into ${name}, plan of ${planned} townships`);
  await page.setViewportSize({ width: 1366, height: 768 });
}

// A respondent on a phone, no login: answers the questionnaire through the
// township's open link, meets a constraint message, skips the question
// that does not apply, switches to large text and submits once.
async function answerChecks(page) {
  const town = process.env.PINGAN_UI_SURVEY_TOWN;
  if (!check(town, 'answering page: no survey township given')) return;
  await page.setViewportSize({ width: 390, height: 844 });
  await goto(page, `/s/${YEAR}/${town}`, 'public answering page');
  const next = page.locator('#next');
  const pick = async (name, value) => page.locator(`[data-q="${name}"] input[value="${value}"]`).check();
  // Page 1 is the introduction; page 2 the respondent.
  await next.click();
  await pick('sex', 'f');
  await pick('age_group', '60_plus');
  await pick('occupation', 'retired');
  await pick('residence', 'urban');
  await page.fill('#q-years_here', '200');
  await next.click();
  const msg = await page.locator('[data-q="years_here"] .error-msg').textContent();
  check(msg.includes('0 到 100'), `answering page: the constraint message says "${msg}"`);
  await page.fill('#q-years_here', '12');
  await page.locator('#big-text').click();
  check(await page.evaluate(() => document.body.classList.contains('big')), 'answering page: 大字 did not enlarge the text');
  await page.screenshot({ path: join(SHOTS, 'answer-390x844.png'), fullPage: true });
  await next.click();
  await answerRest(page);
  await page.waitForSelector('#answer-done:not([hidden])', { timeout: 10000 }).catch(() => {});
  const done = await page.locator('#answer-done').textContent().catch(() => '');
  check(done.includes('提交成功'), `answering page: after submitting it says "${done}"`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 400, `answering page at 390×844 overflows: scrollWidth ${width}px`);
  await page.screenshot({ path: join(SHOTS, 'answer-done-390x844.png'), fullPage: true });
  log(`  answering page: answered and submitted for ${town} on a phone, constraint and skip seen`);
  // A one-time invitation: answered once, then the link says it was used.
  const invite = process.env.PINGAN_UI_INVITE;
  if (check(invite, 'answering page: no invitation link given')) {
    await goto(page, `/i/${invite}`, 'invitation link');
    await next.click();
    await answerRest(page);
    await page.waitForSelector('#answer-done:not([hidden])', { timeout: 10000 }).catch(() => {});
    check((await page.locator('#answer-done').textContent().catch(() => '')).includes('提交成功'),
      'invitation link: the answer was not accepted');
    expectedErrors.add(`/i/${invite}`);
    await goto(page, `/i/${invite}`, 'invitation link replayed', 410);
    const body = await page.locator('body').textContent();
    check(body.includes('已使用'), `invitation link replayed: the page says "${body.slice(0, 80)}"`);
    log('  invitation link: answered once, the replay refused (410)');
  }
  // The township's opinion box: a plain form, numbers taken out.
  await goto(page, `/o/${town}`, 'opinion box');
  await page.fill('#opinion-text', '晚上小区门口路灯不亮，电动车飞线充电很危险。联系我13912345678');
  await page.screenshot({ path: join(SHOTS, 'opinion-390x844.png'), fullPage: true });
  await clickAndWait(page, page.locator('#opinion-form button[type="submit"]'));
  const thanks = await page.locator('#opinion-done').textContent().catch(() => '');
  check(thanks.includes('已收到'), `opinion box: after sending it says "${thanks}"`);
  const boxWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  check(boxWidth <= 400, `opinion box at 390×844 overflows: scrollWidth ${boxWidth}px`);
  log('  opinion box: a comment sent without login');
  await page.setViewportSize({ width: 1366, height: 768 });
}

// An interviewer loses the network: 问卷采集 still opens (its service
// worker keeps it), two questionnaires wait in the device's outbox, and
// when the network is back both are sent, once each, with the paradata.
async function collectChecks(page) {
  const context = page.context();
  await page.setViewportSize({ width: 390, height: 844 });
  await goto(page, '/collect/', 'interviewer 问卷采集');
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  check(await page.evaluate(() => !!navigator.serviceWorker.controller),
    '问卷采集: the service worker does not control the page');
  const before = parseInt(await page.locator('#c-synced').textContent(), 10) || 0;
  const code = `T${Date.now() % 1000000}`;
  await context.setOffline(true);
  try {
    await page.reload();
    check(await page.locator('#answer-form').count() === 1, '问卷采集: the page did not open offline');
    const net = await page.locator('#c-net').textContent();
    check(net.includes('离线'), `问卷采集 offline: the network state says "${net}"`);
    await page.selectOption('#c-region', { index: 1 });
    await page.selectOption('#c-channel', 'interview');
    await page.fill('#c-interviewer', code);
    await page.check('#c-assisted');
    const pick = async (name, value) => page.locator(`[data-q="${name}"] input[value="${value}"]`).check();
    for (let i = 0; i < 2; i++) {
      await page.locator('#next').click();
      await pick('sex', i ? 'm' : 'f');
      await pick('age_group', '60_plus');
      await pick('occupation', 'retired');
      await pick('residence', 'rural');
      await page.fill('#q-years_here', '40');
      await page.locator('#next').click();
      await answerRest(page);
      await page.waitForSelector('#answer-done:not([hidden])', { timeout: 10000 }).catch(() => {});
      const done = await page.locator('#answer-done').textContent().catch(() => '');
      check(done.includes('已保存到本机') && done.includes('离线'), `问卷采集 offline: after questionnaire ${i + 1} it says "${done}"`);
      if (i === 0) await page.locator('#next-form').click();
    }
    await page.waitForFunction(() => document.getElementById('c-waiting').textContent.trim() === '2', null, { timeout: 5000 }).catch(() => {});
    const waiting = (await page.locator('#c-waiting').textContent()).trim();
    check(waiting === '2', `问卷采集 offline: ${waiting} answers wait in the outbox, expected 2`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 410, `问卷采集 at 390×844 overflows: scrollWidth ${width}px`);
    await page.screenshot({ path: join(SHOTS, 'collect-offline-390x844.png'), fullPage: true });
  } finally {
    await context.setOffline(false);
  }
  await page.waitForFunction(() => document.getElementById('c-waiting').textContent.trim() === '0', null, { timeout: 20000 }).catch(() => {});
  const left = (await page.locator('#c-waiting').textContent()).trim();
  check(left === '0', `问卷采集 back online: ${left} answers still wait`);
  const sent = (parseInt(await page.locator('#c-synced').textContent(), 10) || 0) - before;
  check(sent === 2, `问卷采集 back online: ${sent} answers sent, expected 2`);
  // A second push sends nothing more.
  await page.locator('#c-sync').click();
  await page.waitForTimeout(500);
  const csv = await page.evaluate(async (y) => (await fetch(`/surveys/responses.csv?year=${y}`)).text(), YEAR);
  const head = csv.split('\n')[0].replace(/^\uFEFF/, '').split(',');
  const rows = csv.split('\n').filter((l) => l.split(',')[head.indexOf('_interviewer')] === code);
  check(rows.length === 2, `问卷采集: the server holds ${rows.length} answers of interviewer ${code}, expected 2`);
  check(rows.every((l) => { const f = l.split(','); return f[head.indexOf('channel')] === 'interview' && f[head.indexOf('_assisted')] === '1'; }),
    `问卷采集: channel or assistance not stored: ${rows.join(' | ')}`);
  await page.screenshot({ path: join(SHOTS, 'collect-synced-390x844.png'), fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });
  await goto(page, '/collect/', 'interviewer 问卷采集 at 1440×900');
  await page.screenshot({ path: join(SHOTS, 'collect-1440x900.png'), fullPage: true });
  log(`  问卷采集: two answers taken offline, sent once each when back online (interviewer ${code})`);
}

/** From the current page to the end: every shown question answered (the
 * first choice but one; no dependants), then 提交. */
async function answerRest(page) {
  const next = page.locator('#next');
  const pick = async (name, value) => page.locator(`[data-q="${name}"] input[value="${value}"]`).check();
  for (let guard = 0; guard < 12; guard++) {
    const label = (await next.textContent()).trim();
    for (const q of await page.$$eval('fieldset.question:not([hidden])', (fs) => fs.map((f) => f.getAttribute('data-q')))) {
      if (q === 'q_dependants') { await pick(q, 'no'); continue; }
      const radio = page.locator(`[data-q="${q}"] input[type="radio"]`);
      if (await radio.count()) await radio.nth(1).check();
    }
    const hidden = await page.$$eval('fieldset[data-q="q_elderly_child"]', (fs) => fs.every((f) => f.hidden));
    check(hidden, 'answering page: “一老一小” is asked of someone without dependants');
    if (label === '提交') { await next.click(); break; }
    await next.click();
  }
}

// A department submitter checks its status on a phone: 工作台 and 报送进度
// read without sideways scrolling (the board scrolls inside its box).
async function deptPhoneChecks(page) {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [u, what] of [['/work', '工作台'], [`/progress?year=${YEAR}`, '报送进度']]) {
    await goto(page, u, `dept ${what} at 390px`);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!check(w <= 410, `dept ${what} at 390×844 overflows horizontally: scrollWidth ${w}px`)) {
      fail(`dept ${what} at 390×844: ${(await overflowing(page, 410)).join('; ') || '(none found)'}`);
    }
  }
  await page.screenshot({ path: join(SHOTS, 'dept-progress-390x844.png'), fullPage: true });
  await page.setViewportSize({ width: 1366, height: 768 });
}

// 网页填报: a wrong cell is marked while typing and the form is not sent;
// once right, nothing blocks it.
async function deptEntryChecks(page) {
  const url = `/submit/form?department=${encodeURIComponent('公安')}&period=${YEAR}-11&region=${OWN_COUNTY}`;
  await goto(page, url, 'dept 网页填报');
  const cell = page.locator('#entry-grid input[data-check][data-whole]').first();
  if (!check(await cell.count() === 1, 'dept 网页填报: no count cell (input[data-check][data-whole])')) return;
  const label = await cell.getAttribute('data-label');
  await cell.fill('-3');
  let msg = await cell.evaluate((el) => el.validationMessage);
  check(msg.includes('不能为负数') && msg.includes(label), `dept 网页填报: -3 in ${label} says "${msg}"`);
  await cell.fill('1.5');
  msg = await cell.evaluate((el) => el.validationMessage);
  check(msg.includes('须为整数'), `dept 网页填报: 1.5 in a count says "${msg}"`);
  const marked = await page.locator('#entry-grid input.invalid').count();
  const status = (await page.locator('#entry-errors').textContent()).trim();
  check(marked === 1 && status.includes('1 个格子有误'), `dept 网页填报: ${marked} cells marked, status "${status}"`);
  await page.screenshot({ path: join(SHOTS, 'entry-inline-1366x768.png') });
  let posted = false;
  const seen = (r) => { if (r.method() === 'POST' && r.url().includes('/submit/form')) posted = true; };
  page.on('request', seen);
  await page.locator('#entry button[type="submit"]').click();
  await page.waitForTimeout(300);
  check(!posted, 'dept 网页填报: the form was sent with a cell marked wrong');
  await cell.fill('2');
  msg = await cell.evaluate((el) => el.validationMessage);
  check(msg === '' && await page.locator('#entry-grid input.invalid').count() === 0,
    `dept 网页填报: 2 still marked ("${msg}")`);
  page.off('request', seen);
  log(`  网页填报: inline check on ${label} (-3, 1.5 refused while typing; the form not sent)`);
}

async function auditorChecks(page) {
  await goto(page, '/audit', 'auditor /audit');
  check(await page.locator('table#audit').count() === 1, 'auditor /audit: table#audit missing');
  const verify = page.locator('#verify');
  if (!check(await verify.count() === 1, 'auditor /audit: #verify missing')) return;
  await clickAndWait(page, verify);
  const ok = await page.locator('.banner.ok').count();
  const text = ok ? (await page.locator('.banner.ok').first().textContent()).trim() : '';
  const err = await page.locator('.banner.error').allTextContents();
  check(ok > 0, `auditor: #verify gave no .banner.ok (${path(page.url())}; error banners: ${err.join(' | ') || 'none'})`);
  log(`  audit chain: ${text}`);
}

async function collectorChecks(page) {
  await goto(page, '/quality', 'collector /quality');
  await page.fill('#c-period', String(YEAR));
  await clickAndWait(page, page.locator('#run-check button[type="submit"]'));
  const banner = (await page.locator('.banner.ok').allTextContents()).join(' ');
  // A check the page did not wait for goes on in the background: reload
  // until the ledger's last check is there.
  const background = banner.includes('检查已开始');
  if (!check(banner.includes('检查完成') || background, `collector: running the check gave no .banner.ok with 检查完成 or 检查已开始 (${path(page.url())})`)) return;
  for (let i = 0; background && i < 60; i++) {
    if ((await page.locator('table#flags tbody tr').count()) > 0) break;
    await page.waitForTimeout(1000);
    await goto(page, '/quality', 'collector /quality (waiting for the check)');
  }
  const last = (await page.locator('#last-check').textContent().catch(() => '')) || '';
  check(last.includes('最近一次检查'), `collector /quality: #last-check says "${last.trim()}"`);
  log(`  check: ${banner.trim()} | ${last.trim()}`);
  const summary = await page.locator('table#flag-summary tbody tr').count();
  const flags = await page.locator('table#flags tbody tr').count();
  check(summary > 0 && flags > 0, `collector /quality: ${summary} summary rows and ${flags} flags after the check`);
  await page.screenshot({ path: join(SHOTS, 'quality-1366x768-full.png'), fullPage: true });
  // The menu shows what waits: a badge beside 工作台 and beside 数据质量,
  // the same number as the 工作台 tile.
  await page.waitForSelector('.side nav a[href="/quality"] .badge', { timeout: 5000 }).catch(() => {});
  const badge = async (href) => page.$eval(`.side nav a[href="${href}"] .badge`, (b) => b.textContent).catch(() => null);
  const onQuality = await badge('/quality');
  const onWork = await badge('/work');
  const w = await api(page, '/api/v1/work');
  const flagsTodo = w.items.find((t) => t.id === 'todo-flags');
  const shown = (n) => (n > 99 ? '99+' : String(n));
  check(flagsTodo && onQuality === shown(flagsTodo.count) && onWork === shown(w.total),
    `collector: menu badges 数据质量 ${onQuality} / 工作台 ${onWork}, expected ${flagsTodo && shown(flagsTodo.count)} / ${shown(w.total)}`);
  log(`  menu badges: 工作台 ${onWork}, 数据质量 ${onQuality}`);
  if (!flags) return;
  await clickAndWait(page, page.locator('table#flags tbody tr a[href^="/quality/"]').first());
  check(/\/quality\/\d+$/.test(path(page.url())), `collector: 处理 led to ${path(page.url())}`);
  check(await page.locator('form#correct').count() === 1 && await page.locator('form#explain').count() === 1,
    `collector ${path(page.url())}: the resolve forms are missing`);
  await page.fill('#r-note', '当月开展专项行动，受理量集中上升');
  await clickAndWait(page, page.locator('form#explain button[type="submit"]'));
  const done = (await page.locator('.banner.ok').allTextContents()).join(' ');
  check(done.includes('已说明'), `collector: explaining a flag gave "${done.trim()}" (${path(page.url())})`);
  check(await page.locator('form#explain').count() === 0, 'collector: the resolve forms are still shown after resolving');
  await page.screenshot({ path: join(SHOTS, 'quality-flag-1366x768.png'), fullPage: true });
  log(`  resolved ${path(page.url())}: ${done.trim()}`);

  // A statistical flag's page draws its series with the model's
  // expectation (issue 23), at both sizes, without sideways scrolling.
  let opened = null;
  for (const kind of ['jump', 'mod_zscore', 'zscore', 'run_above_mean']) {
    await goto(page, `/quality?kind=${kind}`, `collector /quality?kind=${kind}`);
    const link = page.locator('table#flags tbody tr a[href^="/quality/"]').first();
    if (await link.count() === 0) continue;
    await clickAndWait(page, link);
    opened = path(page.url());
    for (const [w, h] of [[1440, 900], [390, 844]]) {
      await page.setViewportSize({ width: w, height: h });
      check(await page.locator('div[data-chart="flag"]').count() === 1, `${opened}: no series chart`);
      await checkCharts(page, `flag ${opened} at ${w}×${h}`);
      // The chart follows the window on its resize event, a moment after
      // the viewport changed.
      await page.waitForFunction((w) => document.documentElement.scrollWidth <= w + 20, w, { timeout: 3000 }).catch(() => {});
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      check(sw <= w + 20, `flag ${opened} at ${w}×${h} scrolls sideways: scrollWidth ${sw}`);
      await page.screenshot({ path: join(SHOTS, `quality-series-${w}x${h}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    break;
  }
  log(opened ? `  series chart on ${opened}` : '  no statistical flag in this province to open');
}

// The department's pending December (made by browser.rs) waits for 一级:
// the collector selects every set on the page and passes them.
async function reviewChecks(page) {
  await goto(page, '/review', 'collector /review');
  const rows = await page.locator('table#sets tbody tr[data-state="submitted"]').count();
  if (!check(rows > 0, 'collector /review: no submitted data set listed')) return;
  await page.locator('#select-all').check();
  const checked = await page.locator('input[name="set"]:checked').count();
  check(checked === rows, `collector /review: 全选 checked ${checked} of ${rows} sets`);
  await clickAndWait(page, page.locator('#review-batch button[value="pass"]'));
  const banner = (await page.locator('.banner.ok').allTextContents()).join(' ');
  check(banner.includes(`已审核通过 ${rows} 个数据集`), `collector: passing the sets gave "${banner.trim()}"`);
  await page.screenshot({ path: join(SHOTS, 'review-1366x768.png'), fullPage: true });
  log(`  review: ${banner.trim()}`);
}

// The verification group creates a task and records a two-person visit
// with a photo through the form.
async function verifierChecks(page) {
  await goto(page, '/verify', 'verifier /verify');
  await page.fill('#n-region', `${OWN_COUNTY}001`);
  await page.fill('#n-period', `${YEAR}-12`);
  await page.check('#n-elements input[value="patrol_teams"]');
  await clickAndWait(page, page.locator('form#new-task button[type="submit"]'));
  if (!check(/\/verify\/\d+/.test(path(page.url())), `verifier: creating a task led to ${path(page.url())}`)) return;
  await page.fill('#r-team', '实地核查一组');
  await page.fill('#r-partner', 'office');
  for (const box of await page.locator('form#record input[type="checkbox"]').all()) await box.check();
  await page.fill('#o-patrol_teams', '12');
  await page.fill('#r-lat', '30.274');
  await page.fill('#r-lon', '120.155');
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001149444154789c6390ab388115310c2d09000646578110c38c010000000049454e44ae426082', 'hex');
  await page.setInputFiles('#r-photos', { name: '现场.png', mimeType: 'image/png', buffer: png });
  await clickAndWait(page, page.locator('form#record button[type="submit"]'));
  const refused = (await page.locator('.banner.error').allTextContents()).join(' ');
  check(refused.includes('不是有效的实地核查组账户'), `verifier: a partner without the verifier role gave "${refused.trim()}"`);
  await page.fill('#r-team', '实地核查一组');
  await page.fill('#r-partner', 'verifier2');
  for (const box of await page.locator('form#record input[type="checkbox"]').all()) await box.check();
  await page.fill('#o-patrol_teams', '12');
  await page.fill('#r-lat', '30.274');
  await page.fill('#r-lon', '120.155');
  await page.setInputFiles('#r-photos', { name: '现场.png', mimeType: 'image/png', buffer: png });
  await clickAndWait(page, page.locator('form#record button[type="submit"]'));
  const banner = (await page.locator('.banner.ok').allTextContents()).join(' ');
  check(banner.includes('照片 1 张'), `verifier: recording the visit gave "${banner.trim()}"`);
  const shown = await page.locator('.photos img').count();
  check(shown === 1, `verifier: ${shown} photos shown after the record`);
  // The photo loads lazily, and under load it may still be on its way:
  // bring it into view and wait for it (10 s at most).
  await page.locator('.photos img').first().scrollIntoViewIfNeeded().catch(() => {});
  const width = await page.locator('.photos img').first().evaluate((img) => (img.complete && img.naturalWidth) ? img.naturalWidth : new Promise((done) => {
    img.addEventListener('load', () => done(img.naturalWidth));
    img.addEventListener('error', () => done(0));
    setTimeout(() => done(img.complete ? img.naturalWidth : -1), 10000);
  })).catch(() => -1);
  check(width === 8, `verifier: the stored photo did not load back as the 8×8 PNG (naturalWidth ${width})`);
  await page.screenshot({ path: join(SHOTS, 'verify-1366x768.png'), fullPage: true });
  log(`  field: ${banner.trim()}`);
}

// ---------------------------------------------------------------- main ----

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'pingan-ui-'));
  const requests = [];
  const pageErrors = [];
  const badResponses = [];
  const loadErrors = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 768 },
      acceptDownloads: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    log(`Chromium ${context.browser()?.version() ?? ''} at ${CHROMIUM}; server ${BASE}`);
    context.on('request', (r) => requests.push(r.url()));
    context.on('response', (r) => {
      const s = r.status();
      if (s >= 400 && !expectedErrors.has(path(r.url()))) badResponses.push(`${s} ${r.request().method()} ${r.url()}`);
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    // Irreversible steps ask first (form[data-confirm]); a user says yes.
    page.on('dialog', (d) => { log(`confirm: ${d.message()}`); d.accept(); });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (/Failed to load resource/.test(m.text())) {
        // Also seen for requests the request events do not report (the icon).
        const u = m.location()?.url || page.url();
        if (!expectedErrors.has(path(u))) loadErrors.push(`${u}: ${m.text()}`);
      } else {
        pageErrors.push(`${page.url()}: console.error: ${m.text()}`);
      }
    });
    for (const u of [`/region/${OTHER_COUNTY}?period=${YEAR}`, `/?region=${OTHER_COUNTY}&period=${YEAR}`,
      `/export/ranking.xlsx?region=${OTHER_COUNTY}&period=${YEAR}`]) expectedErrors.add(u);

    // Nobody signed in yet: the public answering page.
    try {
      await answerChecks(page);
    } catch (e) {
      fail(`answering page: ${e.message.split('\n')[0]}`);
    }

    for (const user of USERS) {
      log(`${user}: sign in through form#login`);
      try {
        await login(page, user);
      } catch (e) {
        fail(e.message);
        continue;
      }
      try {
        const nav = await page.$$eval('aside.side nav a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
        check(nav.length > 0, `${user}: no links in aside.side nav`);
        log(`  landed on ${path(page.url())}; navigation: ${nav.map(([h, t]) => `${t} ${h}`).join(', ')}`);
        for (const [href, label] of nav) {
          const where = `${user} ${label} ${href}`;
          await goto(page, href, where);
          const active = await page.$eval('aside.side nav a.active', (a) => a.getAttribute('href')).catch(() => null);
          check(active === href, `${where}: active navigation entry is ${active}`);
          const charts = await checkPage(page, where);
          log(`  ${label} ${href}: ok${charts.length ? `, charts ${charts.join('/')}` : ''}`);
        }
        if (user === 'office') await officeChecks(page);
        if (user === 'office' || user === 'county') await surveyChecks(page, user);
        if (user === 'office') await collectChecks(page);
        if (user === 'office') await eventsChecks(page);
        if (user === 'office') await mapChecks(page);
        if (user === 'county') await countyChecks(page);
        if (user === 'auditor') await auditorChecks(page);
        if (user === 'dept') await deptPhoneChecks(page);
        if (user === 'dept') await deptEntryChecks(page);
        if (user === 'collector') await collectorChecks(page);
        if (user === 'collector') await reviewChecks(page);
        if (user === 'verifier') await verifierChecks(page);
      } catch (e) {
        fail(`${user}: ${e.message.split('\n')[0]}`);
      }
      try {
        await goto(page, '/password', `${user} before logout`);
        await logout(page, user);
      } catch (e) {
        fail(`${user}: logout: ${e.message.split('\n')[0]}`);
      }
    }
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }

  // Offline: every request of every page went to 127.0.0.1.
  const outside = requests.filter((u) => {
    const url = new URL(u);
    if (['data:', 'blob:', 'about:'].includes(url.protocol)) return false;
    return url.hostname !== '127.0.0.1';
  });
  check(requests.length > 0, 'no request was recorded at all');
  check(outside.length === 0, `requests that left 127.0.0.1: ${[...new Set(outside)].join(', ')}`);
  log(`network: ${requests.length} requests, all to 127.0.0.1: ${outside.length === 0}`);
  const seen = new Map();
  for (const e of pageErrors) seen.set(e, (seen.get(e) || 0) + 1);
  for (const [e, n] of seen) fail(`JavaScript error: ${e}${n > 1 ? ` (${n}×)` : ''}`);
  const isIcon = (x) => /\/favicon\.ico\b/.test(x);
  const icon = [...badResponses, ...loadErrors].filter(isIcon);
  if (icon.length) notes.push(`/favicon.ico failed to load (${icon.length}×): the pages declare no icon and none is served`);
  for (const r of badResponses.filter((x) => !isIcon(x))) fail(`unexpected error response: ${r}`);
  for (const r of new Set(loadErrors.filter((x) => !isIcon(x)))) {
    if (!badResponses.some((b) => r.startsWith(b.split(' ').pop()))) fail(`resource failed to load: ${r}`);
  }

  for (const n of notes) console.log(`note: ${n}`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (failures.length) {
    console.log(`\nFAIL: ${failures.length} check(s) failed in ${secs}s:`);
    for (const f of failures) console.log(`FAIL ${f}`);
    console.log(`screenshots in ${SHOTS}`);
    return 1;
  }
  console.log(`\nok: browser suite passed in ${secs}s (${USERS.length} accounts); screenshots in ${SHOTS}`);
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.log(`FAIL: the browser suite stopped: ${e.stack || e}`);
  process.exit(1);
});

#!/usr/bin/env node
// The dashboard under the server's Content-Security-Policy, in a real headless
// Chromium (Debian's /usr/bin/chromium driven by the dashboard's playwright-core).
//
//   node tests/e2e/csp_check.mjs --base-url http://127.0.0.1:8000 --operation <id> \
//        --username admin --password ... [--chromium /usr/bin/chromium]
//
// Logs in through the form, waits for the live feed (a WebSocket: connect-src),
// opens the operation's page until its chart has drawn its bars (canvas, inline
// styles), then the other pages. Every `securitypolicyviolation` event and every
// console message about the policy is collected. The last line of stdout is a
// JSON summary; exit status 0 when the pages rendered and nothing was refused.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const FRONTEND = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'frontend');
const { chromium } = createRequire(join(FRONTEND, 'package.json'))('playwright-core');

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    operation: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
const BASE = args['base-url'].replace(/\/$/, '');
const tid = (id) => `[data-testid="${id}"]`;
const summary = { ok: false, visited: [], violations: [], consoleMessages: [], pageErrors: [] };

// (Predicates are functions, never strings: the policy forbids eval, for the
// test's own probes too.)

const browser = await chromium.launch({ executablePath: args.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__csp.push({ directive: event.violatedDirective, blocked: event.blockedURI,
        sample: event.sample, source: event.sourceFile });
    });
  });
  page.on('console', (message) => {
    if (/content security policy|refused to/i.test(message.text())) {
      summary.consoleMessages.push(message.text());
    }
  });
  page.on('pageerror', (error) => summary.pageErrors.push(String(error)));
  const collect = async () =>
    summary.violations.push(...await page.evaluate(() => window.__csp.splice(0)));

  await page.goto(`${BASE}/`);
  await page.locator(tid('login-username')).waitFor({ state: 'visible', timeout: 30_000 });
  summary.visited.push('/');
  await page.fill(tid('login-username'), args.username);
  await page.fill(tid('login-password'), args.password);
  await page.click(tid('login-submit'));
  await page.waitForFunction((selector) =>
    /live/i.test(document.querySelector(selector)?.textContent ?? ''), tid('feed-status'),
  { timeout: 30_000 });
  summary.visited.push('/ (logged in, live feed connected)');
  await collect();
  // Same tab (the token is in sessionStorage): the SPA's own navigation.
  for (const [path, readyId, ready] of [
    [`/operations/${args.operation}`, 'op-chart', () => {
      const chart = document.querySelector('[data-testid="op-chart"]');
      return Number(chart?.dataset.bars) > 0 && chart.querySelector('canvas') !== null;
    }],
    ['/operations', 'nav-dashboard', null],
    ['/operations/new', 'create-submit', null],
    ['/settings', 'nav-dashboard', null],
  ]) {
    await page.evaluate((target) => {
      window.history.pushState({}, '', target);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, path);
    await page.locator(tid(readyId)).first().waitFor({ state: 'visible', timeout: 30_000 });
    if (ready) await page.waitForFunction(ready, null, { timeout: 30_000 });
    await page.waitForTimeout(500); // let late styles and sockets settle
    summary.visited.push(path);
    await collect();
  }
  summary.ok = summary.violations.length === 0 && summary.consoleMessages.length === 0
    && summary.pageErrors.length === 0;
} catch (error) {
  summary.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);

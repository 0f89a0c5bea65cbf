#!/usr/bin/env node
// End-to-end test of the dashboard in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser is downloaded),
// against a running backend that serves the built dashboard at / and runs
// the demo on real USD-CAD data (tests/e2e/test_dashboard_e2e.py starts it).
//
//   node e2e/dashboard.e2e.mjs --base-url http://127.0.0.1:9000 --out shots/ \
//        [--username admin] [--password admin-dev-password] [--chromium /usr/bin/chromium]
//
// The flow: log in (a wrong password first), the dashboard, create an
// operation from the form (a bad quantity first: the server's 422 is shown
// under its field), watch its trades appear on the chart and in the trades
// table without a reload, pause it, close its open position by hand and find
// the journal entry marked "Manual (console)", resume it and see trading go
// on, the operations list and its filters, and the settings (the kill switch's
// confirmation is cancelled). A screenshot of each page is written to --out.
// Exit status 0 when every step passed; the last line of stdout is a JSON
// summary.

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    out: { type: 'string' },
    username: { type: 'string', default: 'admin' },
    password: { type: 'string', default: 'admin-dev-password' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    headed: { type: 'boolean', default: false },
  },
});
if (!args['base-url'] || !args.out) {
  console.error('usage: dashboard.e2e.mjs --base-url URL --out DIR [--username U --password P]');
  process.exit(2);
}
const BASE = args['base-url'].replace(/\/$/, '');
const OUT = resolve(args.out);
mkdirSync(OUT, { recursive: true });

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];
// Wide percentage stops: MomentumStrategy then always holds a position (it
// reverses on each crossover), so a position is open to close by hand.
const FORM = { fast: '5', slow: '20', stopType: 'PERCENTAGE', stopValue: '0.05',
  takeType: 'PERCENTAGE', takeValue: '0.05', quantity: '10000' };

const tid = (id) => `[data-testid="${id}"]`;
const started = Date.now();
const log = (message) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
const summary = { ok: false, baseUrl: BASE, out: OUT, steps: [], screenshots: [],
  operationId: null, pageErrors: [], consoleErrors: [], requests: {} };

class StepFailure extends Error {}
function check(condition, message) {
  if (!condition) throw new StepFailure(message);
}

async function waitFor(what, probe, { timeout = 30_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new StepFailure(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---- the API, for checks the page cannot show and to know what to expect

let token = null;
async function api(path, init = {}) {
  const response = await fetch(`${BASE}${path}`, { ...init,
    headers: { ...(init.headers ?? {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  const body = await response.text();
  return { status: response.status, json: body ? JSON.parse(body) : null };
}
async function apiLogin() {
  const form = new URLSearchParams({ username: args.username, password: args.password });
  const answer = await api('/api/auth/token', { method: 'POST', body: form });
  check(answer.status === 200, `API login failed: ${answer.status}`);
  token = answer.json.access_token;
}
const operation = async (id) => (await api(`/api/operations/${id}`)).json;

// ---- page helpers

// A screenshot of the viewport: the top of the page, or around `focus`.
async function shot(page, name, focus = null) {
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
  if (focus) await page.locator(focus).first().scrollIntoViewIfNeeded().catch(() => {});
  else await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(400); // let charts and transitions settle
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  summary.screenshots.push(path);
  log(`screenshot ${path}`);
}

async function visible(page, ...ids) {
  for (const id of ids) await page.locator(tid(id)).first().waitFor({ state: 'visible', timeout: 20_000 });
}

async function countOf(page, selector) {
  return page.locator(selector).count();
}

async function markers(page) {
  const text = await page.locator(tid('op-chart-markers-count')).textContent({ timeout: 10_000 });
  const value = Number.parseInt((text ?? '').trim(), 10);
  return Number.isFinite(value) ? value : 0;
}

// Confirms the dialog when the action asks for confirmation (close, kill
// switch always do; pause and resume may).
async function confirmIfAsked(page, { required = false } = {}) {
  const dialog = page.locator(tid('confirm-dialog'));
  try {
    await dialog.waitFor({ state: 'visible', timeout: required ? 10_000 : 1_500 });
  } catch (error) {
    if (required) throw new StepFailure('no confirmation dialog was shown');
    return false;
  }
  await page.locator(tid('confirm-ok')).click();
  await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  return true;
}

async function navigate(page, navId, readyId, path) {
  await page.locator(tid(navId)).click();
  await page.waitForURL((url) => url.pathname === path, { timeout: 10_000 });
  await visible(page, readyId);
}

// ---- the steps

async function login(page) {
  await page.goto(`${BASE}/`);
  await visible(page, 'login-username', 'login-password', 'login-submit');
  await shot(page, 'login');
  await page.fill(tid('login-username'), args.username);
  await page.fill(tid('login-password'), 'not-the-password');
  await page.click(tid('login-submit'));
  await visible(page, 'login-error');
  await page.fill(tid('login-password'), args.password);
  await page.click(tid('login-submit'));
  await visible(page, 'app-caption', 'feed-status', 'logout');
  const mode = (await api('/api/v1/mode')).json;
  await waitFor(`the caption "${mode.caption}"`, async () =>
    (await page.locator(tid('app-caption')).textContent())?.trim() === mode.caption);
  await waitFor('the live feed to connect (feed-status "live")', async () =>
    /live/i.test((await page.locator(tid('feed-status')).textContent()) ?? ''), { timeout: 20_000 });
}

async function dashboard(page) {
  await navigate(page, 'nav-dashboard', 'dash-realized-pnl', '/');
  await visible(page, 'dash-realized-pnl', 'dash-unrealized-pnl', 'dash-active-operations',
    'dash-recent-trades', 'dash-system-status', 'dash-equity-curve');
  // the demo operation is trading: the dashboard lists it and its trades
  await waitFor('the demo operation among the active operations', async () =>
    /MomentumStrategy|USD-CAD/.test((await page.locator(tid('dash-active-operations')).textContent()) ?? ''));
  await waitFor('trades of USD-CAD among the recent trades', async () =>
    /USD-CAD/.test((await page.locator(tid('dash-recent-trades')).textContent()) ?? ''));
  await waitFor('the realized P/L in CAD', async () =>
    /CAD/.test((await page.locator(tid('dash-realized-pnl')).textContent()) ?? ''));
  await shot(page, 'dashboard');
}

async function createOperation(page) {
  await navigate(page, 'nav-create', 'create-submit', '/operations/new');
  await visible(page, 'create-asset', 'create-bar-sizes', 'create-strategy', 'create-quantity',
    'create-stop-loss-type', 'create-stop-loss-value', 'create-take-profit-type',
    'create-take-profit-value', 'create-crash-recovery-mode');
  await page.selectOption(tid('create-strategy'), 'MomentumStrategy');
  await visible(page, 'create-param-fast_period', 'create-param-slow_period');
  await page.fill(tid('create-param-fast_period'), FORM.fast);
  await page.fill(tid('create-param-slow_period'), FORM.slow);
  await page.selectOption(tid('create-stop-loss-type'), FORM.stopType);
  await page.fill(tid('create-stop-loss-value'), FORM.stopValue);
  await page.selectOption(tid('create-take-profit-type'), FORM.takeType);
  await page.fill(tid('create-take-profit-value'), FORM.takeValue);
  const before = (await api('/api/operations?limit=10000')).json.length;

  // a bad field: the server's 422 is shown under it, nothing is created
  await page.fill(tid('create-quantity'), '-1');
  await page.click(tid('create-submit'));
  await visible(page, 'field-error-quantity');
  const message = (await page.locator(tid('field-error-quantity')).textContent())?.trim();
  check(message, 'field-error-quantity is empty');
  check(new URL(page.url()).pathname === '/operations/new', 'left the form on a bad field');
  check((await api('/api/operations?limit=10000')).json.length === before,
    'an operation was created from a bad form');
  await shot(page, 'create', tid('field-error-quantity'));

  await page.fill(tid('create-quantity'), FORM.quantity);
  await page.click(tid('create-submit'));
  await page.waitForURL((url) => /^\/operations\/(?!new$)[^/]+$/.test(url.pathname), { timeout: 15_000 });
  const id = new URL(page.url()).pathname.split('/').pop();
  const created = await operation(id);
  check(created?.id === id, `the new operation ${id} is not in the API`);
  check(created.strategy_config.fast_period === 5 && created.strategy_config.slow_period === 20,
    `strategy parameters not sent: ${JSON.stringify(created.strategy_config)}`);
  check(created.stop_loss_type === 'PERCENTAGE' && created.quantity === 10000,
    `form values not sent: ${created.stop_loss_type} ${created.quantity}`);
  summary.operationId = id;
  return id;
}

async function watchTrades(page, id) {
  await visible(page, 'op-detail', 'op-config', 'op-chart', 'trades-table', 'positions-table',
    'transactions-table', 'orders-table', 'journal-table', 'op-detail-pause');
  // a marker on the window: a reload would lose it
  await page.evaluate(() => { window.__e2eNoReload = 'still-here'; });
  const rows = `[data-testid^="trade-row-"]`;
  const start = { markers: await markers(page), trades: await countOf(page, rows) };
  log(`chart markers ${start.markers}, trade rows ${start.trades}`);
  try {
    await waitFor('markers to be added to the chart', async () => (await markers(page)) > start.markers,
      { timeout: 60_000 });
  } catch (error) {
    const logged = (await api('/api/v1/trade-log?symbol=USD-CAD&interval=1h')).json;
    const own = (logged?.trades ?? []).filter((t) => t.operationId === id);
    throw new StepFailure(`${error.message}; the trade log has ${own.length} trades of ${id} ` +
      `(${(logged?.trades ?? []).length} in all), the chart shows ${await markers(page)} markers`);
  }
  await waitFor('trades to appear in the trades table', async () => (await countOf(page, rows)) > start.trades,
    { timeout: 60_000 });
  const mid = { markers: await markers(page), trades: await countOf(page, rows) };
  await waitFor('more markers (trading goes on)', async () => (await markers(page)) > mid.markers,
    { timeout: 60_000 });
  const end = { markers: await markers(page), trades: await countOf(page, rows) };
  log(`chart markers ${start.markers} -> ${mid.markers} -> ${end.markers}, trade rows ${start.trades} -> ${end.trades}`);
  check(await page.evaluate(() => window.__e2eNoReload) === 'still-here', 'the page was reloaded');
  const trades = (await api(`/api/operations/${id}/trades?limit=10000`)).json;
  check(trades.length > 0, 'the API has no trade of the operation');
  summary.trades = { start, mid, end, api: trades.length };
  await shot(page, 'operation-detail');
}

async function pauseCloseResume(page, id) {
  const openClose = page.locator('[data-testid^="position-close-"]:enabled');
  await openClose.first().waitFor({ state: 'visible', timeout: 60_000 });

  await page.click(tid('op-detail-pause'));
  await confirmIfAsked(page);
  await waitFor('the operation to be paused', async () => (await operation(id)).status === 'paused');
  await page.locator(tid('op-detail-resume')).waitFor({ state: 'visible', timeout: 10_000 });
  await waitFor('the resume button to be enabled', () => page.locator(tid('op-detail-resume')).isEnabled());

  // close the open position by hand (the operation is paused: it stays open)
  const button = openClose.first();
  await button.waitFor({ state: 'visible', timeout: 20_000 });
  const positionId = (await button.getAttribute('data-testid')).replace('position-close-', '');
  const lastBefore = (await operation(id)).last_sequence_number;
  await button.click();
  await confirmIfAsked(page, { required: true });
  const manual = await waitFor('the manual close in the journal', async () => {
    const entries = (await api(`/api/operations/${id}/journal?after_sequence=${lastBefore}&limit=1000`)).json;
    return entries.find((e) => e.source === 'api/manual' && e.action_type === 'ORDER_SUBMITTED');
  });
  await waitFor('the position to be closed', async () => {
    const positions = (await api(`/api/operations/${id}/positions?limit=10000`)).json;
    return positions.find((p) => p.id === positionId)?.status === 'CLOSED';
  });
  const cell = page.locator(tid(`journal-source-${manual.sequence_number}`));
  await cell.scrollIntoViewIfNeeded({ timeout: 30_000 }).catch(() => {});
  await waitFor(`journal row ${manual.sequence_number} marked "Manual (console)"`, async () =>
    (await cell.count()) > 0 && (await cell.first().textContent())?.trim() === 'Manual (console)',
  { timeout: 30_000 });
  const engineCell = page.locator('[data-testid^="journal-source-"]', { hasText: /^Engine$/ });
  check(await engineCell.count() > 0, 'no journal entry marked "Engine"');
  summary.manualClose = { positionId, journalSequence: manual.sequence_number };
  await shot(page, 'operation-detail-manual-close', tid(`journal-row-${manual.sequence_number}`));

  await page.click(tid('op-detail-resume'));
  await confirmIfAsked(page);
  await waitFor('the operation to be active again', async () => (await operation(id)).status === 'active');
  const after = await markers(page);
  await waitFor('new markers after resuming', async () => (await markers(page)) > after, { timeout: 60_000 });
  check(await page.evaluate(() => window.__e2eNoReload) === 'still-here', 'the page was reloaded');
}

async function operationsList(page, id) {
  await navigate(page, 'nav-operations', 'operations-table', '/operations');
  await visible(page, `op-row-${id}`, `op-status-${id}`, 'filter-status', 'filter-asset', 'filter-strategy');
  await waitFor('the new operation listed as active', async () =>
    /active/i.test((await page.locator(tid(`op-status-${id}`)).textContent()) ?? ''));
  check(await page.locator(tid(`op-pause-${id}`)).isVisible(), 'no pause action on an active row');
  // a quick action asks for confirmation; cancelling it changes nothing
  await page.click(tid(`op-close-${id}`));
  await page.locator(tid('confirm-dialog')).waitFor({ state: 'visible', timeout: 10_000 });
  await page.click(tid('confirm-cancel'));
  await page.locator(tid('confirm-dialog')).waitFor({ state: 'hidden', timeout: 10_000 });
  check((await operation(id)).status === 'active', 'cancelling the close changed the operation');
  // filtering by a status the operation does not have hides it
  const statuses = await page.locator(`${tid('filter-status')} option`).evaluateAll(
    (options) => options.map((o) => o.value));
  if (statuses.includes('closed')) {
    await page.selectOption(tid('filter-status'), 'closed');
    await page.locator(tid(`op-row-${id}`)).waitFor({ state: 'hidden', timeout: 10_000 });
    await page.selectOption(tid('filter-status'), statuses.includes('') ? '' : 'active');
    await visible(page, `op-row-${id}`);
  }
  await shot(page, 'operations');
}

async function settings(page) {
  await navigate(page, 'nav-settings', 'kill-switch', '/settings');
  await visible(page, 'broker-configs', 'risk-defaults', 'kill-switch');
  await shot(page, 'settings');
  await page.click(tid('kill-switch'));
  await page.locator(tid('confirm-dialog')).waitFor({ state: 'visible', timeout: 10_000 });
  await page.click(tid('confirm-cancel'));
  await page.locator(tid('confirm-dialog')).waitFor({ state: 'hidden', timeout: 10_000 });
  const active = (await api('/api/operations?status=active&limit=10000')).json;
  check(active.some((o) => o.id === summary.operationId), 'a cancelled kill switch paused operations');
}

async function logout(page) {
  await page.click(tid('logout'));
  await visible(page, 'login-username');
}

// ---- run

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'lt-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: args.chromium,
    headless: !args.headed,
    args: CHROMIUM_FLAGS.filter((flag) => args.headed ? flag !== '--headless' : true),
    viewport: { width: 1440, height: 900 },
    timezoneId: 'America/Toronto',
    locale: 'en-CA',
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => summary.pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') summary.consoleErrors.push(message.text());
  });
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname.replace(/[0-9a-f]{24}/g, ':id');
    if (path.startsWith('/api') || path.startsWith('/v1')) summary.requests[path] = (summary.requests[path] ?? 0) + 1;
  });
  let id = null;
  const steps = [
    ['log in', () => login(page)],
    ['dashboard', () => dashboard(page)],
    ['create an operation (a bad field first)', async () => { id = await createOperation(page); }],
    ['trades appear on the chart and in the table', () => watchTrades(page, id)],
    ['pause, close a position by hand, resume', () => pauseCloseResume(page, id)],
    ['operations list', () => operationsList(page, id)],
    ['settings', () => settings(page)],
    ['log out', () => logout(page)],
  ];
  try {
    await apiLogin();
    for (const [name, run] of steps) {
      const t0 = Date.now();
      log(`step: ${name}`);
      try {
        await run();
      } catch (error) {
        summary.steps.push({ name, ok: false, seconds: (Date.now() - t0) / 1000, error: String(error.message ?? error) });
        const path = join(OUT, 'failure.png');
        await page.screenshot({ path, fullPage: true }).catch(() => {});
        summary.screenshots.push(path);
        log(`FAILED: ${name}: ${error.stack ?? error}`);
        log(`at ${page.url()}`);
        return;
      }
      summary.steps.push({ name, ok: true, seconds: (Date.now() - t0) / 1000 });
    }
    check(summary.pageErrors.length === 0, `uncaught errors in the page: ${summary.pageErrors.join('; ')}`);
    summary.ok = true;
  } catch (error) {
    summary.error = String(error.message ?? error);
    log(`FAILED: ${error.stack ?? error}`);
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

await main();
summary.seconds = (Date.now() - started) / 1000;
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);

// Drives /admin/dashboard in headless chromium (Debian's /usr/bin/chromium, through
// puppeteer-core from scripts/setup) for dashboard_e2e_test.cpp:
//   1. a wrong password must show an error on the page;
//   2. the admin signs in through the form; the page must go live over /ws and draw;
//   3. prints `READY {numbers}` and, without reloading, waits until the numbers grow by the
//      expected amounts while the test places orders, then checks the charts were drawn.
// Exits 0 when all of it held; otherwise prints `FAIL: why`, saves a screenshot into --out,
// and exits 1. Every wait has a deadline; nothing sleeps a fixed time.
//
//   node dashboard_check.mjs --url http://127.0.0.1:PORT/admin/dashboard --email E --password P
//        --deps DIR --out DIR [--expect-confirmed N] [--expect-failed N]
//        [--expect-net CURRENCY:AMOUNT] [--expect-reason REASON] [--timeout-ms MS]
//        [--screenshot FILE]
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const CHARTS = ['chart-sales', 'chart-status', 'chart-durations', 'chart-failures'];

function parseArgs(argv) {
  const args = { expectConfirmed: 0, expectFailed: 0, expectNet: null, expectReason: null, timeoutMs: 90000 };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    switch (name) {
      case '--url': args.url = value; break;
      case '--email': args.email = value; break;
      case '--password': args.password = value; break;
      case '--deps': args.deps = value; break;
      case '--out': args.out = value; break;
      case '--expect-confirmed': args.expectConfirmed = Number(value); break;
      case '--expect-failed': args.expectFailed = Number(value); break;
      case '--expect-net': {
        const [currency, amount] = value.split(':');
        args.expectNet = { currency, amount: Number(amount) };
        break;
      }
      case '--expect-reason': args.expectReason = value; break;
      case '--timeout-ms': args.timeoutMs = Number(value); break;
      case '--screenshot': args.screenshot = value; break;
      default: throw new Error(`unknown argument ${name}`);
    }
  }
  for (const required of ['url', 'email', 'password', 'deps', 'out']) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  return args;
}

// The newest complete puppeteer-core that scripts/setup installed.
function loadPuppeteer(deps) {
  const dirs = fs.existsSync(deps)
    ? fs.readdirSync(deps)
        .filter((d) => d.startsWith('puppeteer-core-') && fs.existsSync(path.join(deps, d, '.complete')))
        .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
    : [];
  if (!dirs.length) throw new Error(`no puppeteer-core in ${deps} (run scripts/setup)`);
  const require = createRequire(path.join(deps, dirs[0], 'package.json'));
  return require('puppeteer-core');
}

class Check {
  constructor(page, deadlineMs) {
    this.page = page;
    this.deadlineMs = deadlineMs;
  }

  // Waits until `fn` (run in the page) returns a truthy value; fails with `what` and the
  // page's numbers when the deadline passes first.
  async until(what, fn, ...args) {
    try {
      return await this.page.waitForFunction(fn, { polling: 100, timeout: this.deadlineMs }, ...args);
    } catch (e) {
      const seen = await numbers(this.page).catch(() => ({}));
      throw new Error(`${what} did not happen within ${this.deadlineMs} ms (page shows ${JSON.stringify(seen)})`);
    }
  }
}

// The numbers the page shows, from their data-value attributes.
function numbers(page) {
  return page.evaluate(() => {
    const value = (selector) => {
      const e = document.querySelector(selector);
      return e && e.dataset.value !== undefined ? Number(e.dataset.value) : null;
    };
    const net = {};
    for (const e of document.querySelectorAll('[data-testid="net-sales"][data-currency]')) {
      net[e.dataset.currency] = Number(e.dataset.value);
    }
    return {
      confirmed: value('[data-testid="confirmed-orders"]'),
      open: value('[data-testid="open-orders"]'),
      failed: value('[data-testid="failed-orders"]'),
      net,
      live: document.querySelector('[data-testid="live-status"]').dataset.state,
      renders: Number(document.body.dataset.renders || 0),
    };
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const puppeteer = loadPuppeteer(args.deps);
  const problems = []; // errors the page itself reported
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Tests run as root, where chromium's sandbox cannot start; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
    defaultViewport: { width: 1360, height: 1900 },
  });
  const page = await browser.newPage();
  try {
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // Chromium logs every 4xx answer; the wrong password's 401 is one the check asks for.
      const expected = m.text().startsWith('Failed to load resource') &&
        (m.location().url || '').endsWith('/auth/login');
      if (!expected) problems.push(`console error: ${m.text()} (${m.location().url || 'page'})`);
    });
    // CSP violations are events in the page; collect them before any of its scripts runs.
    await page.evaluateOnNewDocument(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`);
      });
    });

    const response = await page.goto(args.url, { waitUntil: 'load', timeout: 30000 });
    if (!response || response.status() !== 200) {
      throw new Error(`GET ${args.url} answered ${response ? response.status() : 'nothing'}`);
    }
    const csp = response.headers()['content-security-policy'] || '';
    if (!csp.includes("script-src 'self'")) throw new Error(`weak or missing Content-Security-Policy: ${csp}`);

    const check = new Check(page, args.timeoutMs);
    await check.until('the sign-in form', () => {
      const form = document.querySelector('[data-testid="sign-in-form"]');
      return form && form.offsetParent !== null;
    });

    // A wrong password: a clear error, and no dashboard.
    await page.type('#email', args.email);
    await page.type('#password', `${args.password}-wrong`);
    await page.click('[data-testid="sign-in-submit"]');
    await check.until('an error for a wrong password', () => {
      const e = document.querySelector('[data-testid="sign-in-error"]');
      return e && !e.hidden && /wrong email or password/i.test(e.textContent);
    });
    if (await page.$eval('#dashboard', (e) => !e.hidden)) throw new Error('the dashboard opened after a wrong password');
    if (await page.$eval('#password', (e) => e.getAttribute('aria-invalid')) !== 'true') {
      throw new Error('the password field is not marked invalid after a wrong password');
    }

    // The right one: the dashboard, live, with numbers.
    await page.$eval('#password', (e) => { e.value = ''; });
    await page.type('#password', args.password);
    await page.click('[data-testid="sign-in-submit"]');
    await check.until('the dashboard after signing in', () => !document.querySelector('#dashboard').hidden);
    await check.until('the live connection', () =>
      document.querySelector('[data-testid="live-status"]').dataset.state === 'live');
    await check.until('the first numbers', () =>
      Number(document.body.dataset.renders || 0) > 0 &&
      document.querySelector('[data-testid="confirmed-orders"]').dataset.value !== undefined);
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    if (storage.local !== 0) throw new Error('the page wrote to localStorage');
    if (storage.session === 0) throw new Error('the page kept no session in sessionStorage');

    const before = await numbers(page);
    // Marks this document: a reload would lose it.
    await page.evaluate(() => { window.__sameDocument = true; });
    console.log(`READY ${JSON.stringify(before)}`);

    const want = {
      confirmed: before.confirmed + args.expectConfirmed,
      failed: before.failed + args.expectFailed,
      net: args.expectNet && {
        currency: args.expectNet.currency,
        amount: Math.round(((before.net[args.expectNet.currency] || 0) + args.expectNet.amount) * 100) / 100,
      },
      reason: args.expectReason,
    };
    await check.until(`the live update to ${JSON.stringify(want)}`, (w) => {
      const value = (id) => Number(document.querySelector(`[data-testid="${id}"]`).dataset.value);
      if (value('confirmed-orders') < w.confirmed || value('failed-orders') < w.failed) return false;
      if (w.reason) {
        const failures = window.Chart && window.Chart.getChart(document.getElementById('chart-failures'));
        const shown = failures && failures.data.datasets.length ? failures.data.datasets[0].reasons : [];
        if (!shown || !shown.includes(w.reason)) return false;
      }
      if (!w.net) return true;
      const card = document.querySelector(`[data-testid="net-sales"][data-currency="${w.net.currency}"]`);
      return card !== null && Number(card.dataset.value) >= w.net.amount - 0.001;
    }, want);
    const after = await numbers(page);
    if (!(await page.evaluate(() => window.__sameDocument === true))) throw new Error('the page reloaded');
    if (after.live !== 'live') throw new Error(`the live indicator says ${after.live}`);

    // Every chart exists and painted pixels; the sales chart has the new sales in it.
    await check.until('drawn charts', (ids) => ids.every((id) => {
      const canvas = document.getElementById(id);
      const chart = window.Chart && window.Chart.getChart(canvas);
      if (!chart || window.Chart.animator.running(chart) || !canvas.width || !canvas.height) return false;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length && painted < 200; i += 4) if (pixels[i] > 0) painted += 1;
      return painted >= 200;
    }), CHARTS);
    const charted = await page.evaluate(() => {
      const sales = window.Chart.getChart(document.getElementById('chart-sales'));
      const status = window.Chart.getChart(document.getElementById('chart-status'));
      const confirmedAt = status.data.labels.indexOf('Confirmed');
      return {
        sales: Object.fromEntries(sales.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)])),
        confirmedBar: confirmedAt >= 0 ? status.data.datasets[0].data[confirmedAt] : null,
      };
    });
    if (args.expectNet && !(charted.sales[args.expectNet.currency] > 0)) {
      throw new Error(`the sales chart has no ${args.expectNet.currency} sales: ${JSON.stringify(charted.sales)}`);
    }
    if (args.expectConfirmed && !(charted.confirmedBar > 0)) {
      throw new Error(`the status chart shows no confirmed orders: ${JSON.stringify(charted)}`);
    }
    if (args.screenshot) await page.screenshot({ path: args.screenshot });

    const violations = await page.evaluate(() => window.__cspViolations);
    problems.push(...violations.map((v) => `CSP violation: ${v}`));
    if (problems.length) throw new Error(`the page reported errors:\n  ${problems.join('\n  ')}`);

    // Signing out forgets the session and shows the form again.
    await page.click('[data-testid="sign-out"]');
    await check.until('the sign-in form after signing out', () =>
      !document.querySelector('#sign-in').hidden && document.querySelector('#dashboard').hidden &&
      sessionStorage.length === 0);

    console.log(`OK ${JSON.stringify({ before, after, charted })}`);
  } catch (e) {
    const shot = path.join(args.out, `dashboard-failure-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
    throw new Error(`${e.message}\n(screenshot: ${shot})`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`FAIL: ${e.message}`);
    process.exit(1);
  },
);

// The admin dashboard: signs in with POST /auth/login, reads GET /admin/stats and
// GET /admin/stats/sales, draws them, and reads them again whenever /ws announces a new stats
// snapshot. Tokens live in this tab's sessionStorage only (never localStorage), so closing
// the tab signs out. Numbers shown also sit in data-value attributes, unformatted, for tools.
(() => {
  'use strict';

  const STORAGE_KEY = 'bazaar.dashboard.session';
  const STATUS_LABELS = {
    PLACED: 'Placed',
    AWAITING_STOCK: 'Awaiting stock',
    AWAITING_PAYMENT: 'Awaiting payment',
    COMPENSATING: 'Compensating',
    CONFIRMED: 'Confirmed',
    SHIPPED: 'Shipped',
    DELIVERED: 'Delivered',
    REJECTED: 'Rejected',
    CANCELLED: 'Cancelled',
  };
  const CONFIRMED = ['CONFIRMED', 'SHIPPED', 'DELIVERED'];
  const OPEN = ['PLACED', 'AWAITING_STOCK', 'AWAITING_PAYMENT', 'COMPENSATING'];
  const FAILED = ['REJECTED', 'CANCELLED'];
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 30000;
  // Access tokens are renewed this long before they expire, so no request carries a stale one.
  const RENEW_MARGIN_MS = 60000;

  const $ = (id) => document.getElementById(id);
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
  const darkScheme = window.matchMedia('(prefers-color-scheme: dark)');

  // ---------------------------------------------------------------------------------------
  // HTTP

  class ApiError extends Error {
    constructor(status, problem, retryAfter) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status; // 0: the server could not be reached
      this.problem = problem;
      this.retryAfter = retryAfter;
    }
  }

  async function request(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (networkError) {
      throw new ApiError(0, { detail: networkError.message }, null);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (notJson) {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers.get('Retry-After'));
    return data;
  }

  // ---------------------------------------------------------------------------------------
  // Session

  let session = null; // { access_token, refresh_token, expires_at, email }
  let renewTimer = null;
  let renewing = null;

  function readStoredSession() {
    let stored = null;
    try {
      stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    } catch (corrupt) {
      stored = null;
    }
    return stored && stored.access_token && stored.refresh_token ? stored : null;
  }

  function keepTokens(tokens, email) {
    session = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: Date.now() + (Number(tokens.expires_in) || 900) * 1000,
      email,
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    scheduleRenewal();
  }

  function scheduleRenewal() {
    clearTimeout(renewTimer);
    if (!session) return;
    const wait = Math.max(5000, session.expires_at - Date.now() - RENEW_MARGIN_MS);
    renewTimer = setTimeout(() => renew(), wait);
  }

  // The role claim of an access token, for a clear message before the API refuses anyway.
  function roleOf(accessToken) {
    try {
      const payload = accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(payload)).role || null;
    } catch (notAJwt) {
      return null;
    }
  }

  // One renewal at a time: refresh tokens rotate, and a second use of the old one would be
  // taken for theft and revoke the whole family.
  function renew() {
    if (!session) return Promise.resolve(false);
    if (renewing) return renewing;
    const current = session;
    renewing = (async () => {
      try {
        const tokens = await request('POST', '/auth/refresh', { refresh_token: current.refresh_token });
        if (session === current) keepTokens(tokens, current.email);
        return session !== null;
      } catch (e) {
        if (e.status === 0 || e.status >= 500) {
          // The server is away, not the session: try again later.
          if (session === current) renewTimer = setTimeout(() => renew(), 10000);
          return false;
        }
        if (session === current) endSession({ notice: 'Your session has ended. Please sign in again.' });
        return false;
      } finally {
        renewing = null;
      }
    })();
    return renewing;
  }

  async function ensureFreshToken() {
    if (session && session.expires_at - Date.now() < RENEW_MARGIN_MS) await renew();
  }

  async function adminGet(path) {
    await ensureFreshToken();
    if (!session) throw new ApiError(401, { detail: 'signed out' }, null);
    try {
      return await request('GET', path, undefined, session.access_token);
    } catch (e) {
      if (e.status !== 401 || !(await renew())) throw e;
      return request('GET', path, undefined, session.access_token);
    }
  }

  function endSession({ notice = '', error = '' } = {}) {
    session = null;
    sessionStorage.removeItem(STORAGE_KEY);
    clearTimeout(renewTimer);
    disconnect();
    resetDashboard();
    showSignIn(notice, error);
  }

  async function signOut() {
    const ending = session;
    endSession({ notice: 'You are signed out.' });
    if (!ending) return;
    try {
      await request('POST', '/auth/logout', { refresh_token: ending.refresh_token });
    } catch (e) {
      // The tokens are already gone from this tab; the refresh token expires by itself.
      console.warn('sign-out could not reach the server:', e.message);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Sign-in form

  const form = $('sign-in-form');
  const emailInput = $('email');
  const passwordInput = $('password');

  function showSignIn(notice, error) {
    $('dashboard').hidden = true;
    $('topbar-status').hidden = true;
    $('account').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-notice').textContent = notice || '';
    setFormError(error || '', []);
    passwordInput.value = '';
    (emailInput.value ? passwordInput : emailInput).focus();
  }

  function setFormError(message, invalid) {
    const box = $('sign-in-error');
    box.textContent = message;
    box.hidden = !message;
    for (const input of [emailInput, passwordInput]) {
      if (invalid.includes(input)) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', 'sign-in-error');
      } else {
        input.removeAttribute('aria-invalid');
        input.removeAttribute('aria-describedby');
      }
    }
  }

  function signInFailure(e) {
    switch (e.status) {
      case 0:
        return 'Cannot reach the server. Check your connection and try again.';
      case 401:
        return 'Wrong email or password.';
      case 403:
        return 'This account may not sign in.';
      case 422:
        return 'Enter a valid email address and your password.';
      case 429: {
        const seconds = Number(e.retryAfter);
        return seconds > 0
          ? `Too many sign-in attempts. Try again in ${seconds} seconds.`
          : 'Too many sign-in attempts. Try again shortly.';
      }
      case 503:
        return 'The service is briefly unavailable. Try again in a moment.';
      default:
        return `Sign-in failed: ${e.message}.`;
    }
  }

  function setBusy(busy) {
    const button = $('sign-in-submit');
    button.disabled = busy;
    button.textContent = busy ? 'Signing in…' : 'Sign in';
    form.setAttribute('aria-busy', String(busy));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    $('sign-in-notice').textContent = '';
    const email = emailInput.value.trim();
    const password = passwordInput.value;
    if (!email || !password) {
      const missing = [!email && emailInput, !password && passwordInput].filter(Boolean);
      setFormError('Enter your email and password.', missing);
      missing[0].focus();
      return;
    }
    setFormError('', []);
    setBusy(true);
    let tokens;
    try {
      tokens = await request('POST', '/auth/login', { email, password });
    } catch (e) {
      setBusy(false);
      const wrong = e.status === 401 || e.status === 422;
      setFormError(signInFailure(e), wrong ? [emailInput, passwordInput] : []);
      passwordInput.select();
      passwordInput.focus();
      return;
    }
    setBusy(false);
    const role = roleOf(tokens.access_token);
    if (role && role !== 'admin') {
      // Not an admin: drop the tokens at once rather than keep a session that can do nothing here.
      request('POST', '/auth/logout', { refresh_token: tokens.refresh_token }).catch(() => undefined);
      setFormError('This account is not an administrator. The dashboard is for admins only.', [
        emailInput,
      ]);
      return;
    }
    passwordInput.value = '';
    keepTokens(tokens, email);
    enterDashboard();
  });

  $('sign-out').addEventListener('click', () => signOut());

  // ---------------------------------------------------------------------------------------
  // Live updates over /ws

  let socket = null;
  let attempt = 0;
  let reconnectTimer = null;
  let countdownTimer = null;

  // The label is a polite live region; the countdown beside it is not, or a screen reader
  // would read it out every second.
  function setLive(state, label, detail = '') {
    const live = $('live');
    live.dataset.state = state;
    if ($('live-label').textContent !== label) $('live-label').textContent = label;
    $('live-detail').textContent = detail;
  }

  async function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    if (!session || socket) return;
    setLive(attempt ? 'reconnecting' : 'connecting', attempt ? 'Reconnecting…' : 'Connecting…');
    // A handshake refused for an expired token looks like any other close: renew once per outage.
    if (attempt === 2) await renew();
    else await ensureFreshToken();
    if (!session || socket) return;
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${window.location.host}/ws?access_token=${encodeURIComponent(session.access_token)}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      attempt = 0;
      setLive('live', 'Live');
      // Whatever changed while the socket was down is read now.
      refresh();
    });
    ws.addEventListener('message', (event) => {
      if (socket !== ws) return;
      let frame = null;
      try {
        frame = JSON.parse(event.data);
      } catch (notJson) {
        return;
      }
      if (frame && frame.type === 'stats') refresh();
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      if (session) scheduleReconnect();
      else setLive('offline', 'Offline');
    });
  }

  function scheduleReconnect() {
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    // Jitter, so many open dashboards do not all come back in the same instant.
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    attempt += 1;
    const at = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(1, Math.ceil((at - Date.now()) / 1000));
      setLive('reconnecting', 'Reconnecting', `in ${seconds} s`);
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
    reconnectTimer = setTimeout(connect, delay);
  }

  function disconnect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    attempt = 0;
    const ws = socket;
    socket = null;
    if (ws) ws.close(1000, 'signed out');
    setLive('offline', 'Offline');
  }

  window.addEventListener('online', () => {
    if (session && !socket) {
      attempt = 0;
      connect();
    }
  });

  // ---------------------------------------------------------------------------------------
  // Reading the stats: one read at a time, and one more if a snapshot arrived meanwhile.

  let reading = null;
  let readAgain = false;

  function refresh() {
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          await readOnce();
        } while (readAgain && session);
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  async function readOnce() {
    const [stats, sales] = await Promise.allSettled([
      adminGet('/admin/stats'),
      adminGet('/admin/stats/sales?group_by=day'),
    ]);
    if (!session) return;
    if (stats.status === 'rejected') {
      const e = stats.reason;
      if (e.status === 403) {
        endSession({ error: 'This account is not an administrator. The dashboard is for admins only.' });
      } else if (e.status !== 401) {
        showDashboardError(`The stats could not be read (${describe(e)}). Showing the last ones read.`);
      }
      return;
    }
    showDashboardError('');
    render(stats.value, sales.status === 'fulfilled' ? sales.value : null,
      sales.status === 'rejected' ? sales.reason : null);
  }

  function describe(e) {
    if (e.status === 0) return 'the server cannot be reached';
    return `HTTP ${e.status}${e.problem && e.problem.detail ? `: ${e.problem.detail}` : ''}`;
  }

  function showDashboardError(message) {
    const box = $('dashboard-error');
    box.textContent = message;
    box.hidden = !message;
  }

  function enterDashboard() {
    $('sign-in').hidden = true;
    $('dashboard').hidden = false;
    $('topbar-status').hidden = false;
    $('account').hidden = false;
    $('account-who').textContent = session.email ? `Signed in as ${session.email}` : 'Signed in';
    $('main').focus({ preventScroll: true });
    window.scrollTo(0, 0);
    connect();
    refresh();
  }

  // ---------------------------------------------------------------------------------------
  // Formatting

  const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const moneyFormats = new Map();

  function money(amount, currency) {
    if (!moneyFormats.has(currency)) {
      let format;
      try {
        format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
      } catch (unknownCurrency) {
        const plain = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        format = { format: (n) => `${plain.format(n)} ${currency}` };
      }
      moneyFormats.set(currency, format);
    }
    return moneyFormats.get(currency).format(amount);
  }

  function duration(ms) {
    if (!Number.isFinite(ms)) return '–';
    if (ms < 1000) return `${integer.format(ms)} ms`;
    return `${(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: ms < 10000 ? 2 : 1 })} s`;
  }

  const plural = (n, noun) => `${integer.format(n)} ${noun}${n === 1 ? '' : 's'}`;
  // payment_declined -> Payment declined
  const humane = (code) => {
    const words = String(code).replace(/_/g, ' ');
    return words.charAt(0).toUpperCase() + words.slice(1);
  };
  const round2 = (n) => Math.round(n * 100) / 100;
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number(v) || 0);

  // Shows a number and keeps its raw value; a changed value flashes once.
  function setValue(element, value, text) {
    const raw = String(value);
    const changed = element.dataset.value !== undefined && element.dataset.value !== raw;
    element.dataset.value = raw;
    element.textContent = text;
    if (changed && !reducedMotion.matches) {
      element.classList.remove('changed');
      void element.offsetWidth; // restart the animation
      element.classList.add('changed');
    }
  }

  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function fillTable(table, headers, rows) {
    const head = el('thead', {}, [
      el('tr', {}, headers.map((h) => el('th', { scope: 'col', class: h.num ? 'num' : '' }, [h.label]))),
    ]);
    const body = el('tbody', {}, rows.map((row) =>
      el('tr', {}, row.map((cell, i) => el('td', { class: headers[i].num ? 'num' : '' }, [String(cell)])))));
    table.replaceChildren(head, body);
  }

  // ---------------------------------------------------------------------------------------
  // The data as the page uses it

  function utcDays(from, to) {
    const days = [];
    const end = Date.parse(`${to}T00:00:00Z`);
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && days.length < 400; t += 86400000) {
      days.push(new Date(t).toISOString().slice(0, 10));
    }
    return days;
  }

  // Sales totals per currency, and over which period: all time from /admin/stats, else the sum
  // of /admin/stats/sales's daily rows. Currencies are never added together.
  function salesTotals(stats, sales) {
    const totals = new Map();
    const add = (currency, row) => {
      const t = totals.get(currency) || { orders: 0, units: 0, gross: 0, refunded: 0, net: 0 };
      t.orders += num(row.orders);
      t.units += num(row.units);
      t.gross += num(row.gross);
      t.refunded += num(row.refunded);
      t.net += row.net !== undefined ? num(row.net) : num(row.gross) - num(row.refunded);
      totals.set(currency, t);
    };
    let period = 'all time';
    if (Array.isArray(stats.sales)) {
      for (const row of stats.sales) add(row.currency, row);
    } else if (stats.sales && typeof stats.sales === 'object') {
      for (const [currency, row] of Object.entries(stats.sales)) add(currency, row);
    } else if (sales && Array.isArray(sales.rows)) {
      for (const row of sales.rows) add(row.currency, row);
      period = `${sales.from} to ${sales.to} (UTC)`;
    } else if (stats.currency && num(stats.total_sales) > 0) {
      add(stats.currency, { gross: stats.total_sales, net: stats.total_sales });
    }
    return { period, totals: [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)) };
  }

  function statusCounts(stats) {
    const counts = Object.assign({}, stats.orders_by_status || {});
    for (const status of Object.keys(STATUS_LABELS)) counts[status] = num(counts[status]);
    return counts;
  }

  const sum = (counts, statuses) => statuses.reduce((total, s) => total + num(counts[s]), 0);

  // ---------------------------------------------------------------------------------------
  // Rendering

  function render(stats, sales, salesError) {
    const counts = statusCounts(stats);
    const { period, totals } = salesTotals(stats, sales);
    renderCards(stats, counts, totals, period);
    renderCharts(stats, counts, sales, salesError);
    const asOf = stats.as_of ? new Date(stats.as_of) : new Date();
    const time = $('as-of');
    time.dateTime = asOf.toISOString();
    time.title = asOf.toISOString();
    time.textContent = asOf.toLocaleTimeString();
    document.body.dataset.renders = String(num(document.body.dataset.renders) + 1);
  }

  function renderCards(stats, counts, totals, period) {
    const confirmed = sum(counts, CONFIRMED);
    const failed = sum(counts, FAILED);
    setValue($('confirmed-orders'), confirmed, integer.format(confirmed));
    setValue($('open-orders'), sum(counts, OPEN), integer.format(sum(counts, OPEN)));
    setValue($('failed-orders'), failed, integer.format(failed));
    $('failed-note').textContent = confirmed + failed > 0
      ? `rejected or cancelled: ${Math.round((100 * failed) / (confirmed + failed))}% of outcomes`
      : 'rejected or cancelled';

    const durations = stats.saga_durations_ms || {};
    // No settled saga yet: no duration to show, rather than 0 ms.
    const none = durations.p95 === undefined || (durations.count !== undefined && num(durations.count) === 0);
    const p95 = none ? NaN : num(durations.p95);
    setValue($('saga-p95'), Number.isFinite(p95) ? round2(p95) : '', duration(p95));
    const parts = [];
    if (durations.p50 !== undefined) parts.push(`p50 ${duration(num(durations.p50))}`);
    if (durations.count !== undefined) parts.push(plural(num(durations.count), 'saga'));
    $('saga-note').textContent = parts.length ? parts.join(' · ') : 'placement to outcome';

    renderConversion(stats.conversion, counts);
    $('sales-window').textContent = period;
    const holder = $('sales-cards');
    const seen = new Set();
    for (const [currency, t] of totals) {
      seen.add(currency);
      let card = holder.querySelector(`article[data-currency="${CSS.escape(currency)}"]`);
      if (!card) {
        card = el('article', { class: 'card', 'data-testid': 'net-sales-card', 'data-currency': currency }, [
          el('h3', { class: 'card-title' }, [currency]),
          el('p', { class: 'card-value', 'data-testid': 'net-sales', 'data-currency': currency }),
          el('p', { class: 'card-note' }),
        ]);
        holder.append(card);
      }
      setValue(card.querySelector('.card-value'), round2(t.net), money(t.net, currency));
      const note = [plural(t.orders, 'order')];
      if (t.units) note.push(plural(t.units, 'unit'));
      if (t.refunded) note.push(`${money(t.gross, currency)} gross, ${money(t.refunded, currency)} refunded`);
      card.querySelector('.card-note').textContent = note.join(' · ');
    }
    for (const card of holder.querySelectorAll('article[data-currency]')) {
      if (!seen.has(card.dataset.currency)) card.remove();
    }
    $('sales-cards-empty').hidden = totals.length > 0;
  }

  // Conversion: confirmed orders out of those placed. /admin/stats reports it as
  // {orders, confirmed, rate}; without it, the share of outcomes that were sales.
  function renderConversion(conversion, counts) {
    let rate = null;
    let note = 'of orders placed were confirmed';
    if (conversion && typeof conversion === 'object' && conversion.rate !== undefined) {
      rate = conversion.orders !== undefined && num(conversion.orders) === 0 ? null : num(conversion.rate);
      if (conversion.orders !== undefined) {
        note = `${integer.format(num(conversion.confirmed))} of ${plural(num(conversion.orders), 'order')} confirmed`;
      }
    } else if (typeof conversion === 'number') {
      rate = conversion;
    } else {
      const settled = sum(counts, CONFIRMED) + sum(counts, FAILED);
      if (settled > 0) rate = sum(counts, CONFIRMED) / settled;
      note = 'of orders with an outcome were confirmed';
    }
    const percent = rate === null ? null : Math.round(rate * 1000) / 10;
    setValue($('conversion'), percent === null ? '' : percent,
      percent === null ? '–' : `${percent.toLocaleString()}%`);
    $('conversion-note').textContent = note;
  }

  // ---------------------------------------------------------------------------------------
  // Charts (Chart.js, served by the edge from the copy scripts/setup installed)

  const charts = {};
  let palette = {};

  function readPalette() {
    const style = getComputedStyle(document.documentElement);
    const v = (name) => style.getPropertyValue(name).trim();
    palette = {
      text: v('--muted'),
      grid: v('--grid'),
      good: v('--good'),
      busy: v('--busy'),
      warn: v('--warn'),
      bad: v('--bad'),
      series: [1, 2, 3, 4, 5, 6].map((i) => v(`--series-${i}`)),
    };
    if (window.Chart) {
      Chart.defaults.color = palette.text;
      Chart.defaults.borderColor = palette.grid;
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    }
  }

  function statusColor(status) {
    if (CONFIRMED.includes(status)) return palette.good;
    if (status === 'COMPENSATING') return palette.warn;
    if (FAILED.includes(status)) return palette.bad;
    return palette.busy;
  }

  function chart(id, config) {
    if (!window.Chart) return null;
    if (!charts[id]) {
      charts[id] = new Chart($(id), config());
    }
    return charts[id];
  }

  // A horizontal bar chart of counts (orders by status, failure reasons).
  function countBars(id) {
    return chart(id, () => ({
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: baseOptions({
        indexAxis: 'y',
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: () => palette.grid } },
          y: { grid: { display: false } },
        },
      }),
    }));
  }

  function baseOptions(extra) {
    return Object.assign({
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion.matches ? false : { duration: 350 },
      plugins: { legend: { display: false } },
    }, extra);
  }

  let lastRender = null;

  function renderCharts(stats, counts, sales, salesError) {
    lastRender = [stats, counts, sales, salesError];
    if (!window.Chart) {
      showDashboardError('The chart library could not be loaded; the totals above are still live.');
    }
    renderSalesChart(sales, salesError);
    renderStatusChart(counts);
    renderDurationChart(stats.saga_durations_ms || {});
    renderFailureChart(stats.failure_reasons);
  }

  function renderSalesChart(sales, salesError) {
    const empty = $('chart-sales-empty');
    const rows = sales && Array.isArray(sales.rows) ? sales.rows : [];
    const days = sales ? utcDays(sales.from, sales.to) : [];
    const currencies = [...new Set(rows.map((r) => r.currency))].sort();
    const datasets = currencies.map((currency, i) => {
      const byDay = new Map();
      for (const r of rows) {
        if (r.currency === currency) byDay.set(r.day, num(r.net !== undefined ? r.net : num(r.gross) - num(r.refunded)));
      }
      const color = palette.series[i % palette.series.length];
      return {
        label: currency,
        currency,
        data: days.map((d) => round2(byDay.get(d) || 0)),
        backgroundColor: color,
        borderColor: color,
        borderRadius: 4,
        maxBarThickness: 28,
      };
    });
    const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    const labels = days.map((d) => dayLabel.format(new Date(`${d}T00:00:00Z`)));

    $('sales-caption').textContent = sales && sales.from
      ? `Net sales (gross minus refunds) per UTC day from ${sales.from} to ${sales.to}; one series per currency.`
      : 'Net sales (gross minus refunds) per UTC day; one series per currency.';
    if (salesError) {
      empty.textContent = `Sales per day are not available (${describe(salesError)}).`;
    } else {
      empty.textContent = rows.length ? '' : 'No sales in this period yet.';
    }
    empty.hidden = !empty.textContent;

    const c = chart('chart-sales', () => ({
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: baseOptions({
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { beginAtZero: true, grid: { color: () => palette.grid } },
        },
        plugins: {
          legend: { display: true, position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: {
            callbacks: { label: (ctx) => `${ctx.dataset.label}: ${money(ctx.parsed.y, ctx.dataset.currency)}` },
          },
        },
      }),
    }));
    if (c) {
      c.data.labels = labels;
      c.data.datasets = datasets;
      c.update();
    }
    const summary = currencies.map((currency, i) =>
      `${currency} ${money(datasets[i].data.reduce((a, b) => a + b, 0), currency)} in total`);
    $('chart-sales').setAttribute('aria-label',
      `Net sales per day${summary.length ? `: ${summary.join('; ')}` : ': none yet'}. The table below lists every day.`);
    fillTable($('table-sales'), [
      { label: 'Day (UTC)' }, { label: 'Currency' }, { label: 'Orders', num: true },
      { label: 'Units', num: true }, { label: 'Gross', num: true }, { label: 'Refunded', num: true },
      { label: 'Net', num: true },
    ], rows
      .slice()
      .sort((a, b) => (a.day === b.day ? a.currency.localeCompare(b.currency) : a.day < b.day ? 1 : -1))
      .map((r) => [r.day, r.currency, integer.format(num(r.orders)), integer.format(num(r.units)),
        money(num(r.gross), r.currency), money(num(r.refunded), r.currency),
        money(r.net !== undefined ? num(r.net) : num(r.gross) - num(r.refunded), r.currency)]));
  }

  function renderStatusChart(counts) {
    const statuses = Object.keys(counts).sort((a, b) => {
      const order = Object.keys(STATUS_LABELS);
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
    const labels = statuses.map((s) => STATUS_LABELS[s] || s);
    const c = countBars('chart-status');
    if (c) {
      c.data.labels = labels;
      c.data.datasets = [{
        label: 'Orders',
        data: statuses.map((s) => counts[s]),
        backgroundColor: statuses.map(statusColor),
        borderRadius: 4,
        maxBarThickness: 22,
      }];
      c.update();
    }
    $('chart-status').setAttribute('aria-label', `Orders by status: ${statuses
      .map((s, i) => `${labels[i]} ${integer.format(counts[s])}`).join(', ')}.`);
    fillTable($('table-status'), [{ label: 'Status' }, { label: 'Orders', num: true }],
      statuses.map((s, i) => [labels[i], integer.format(counts[s])]));
  }

  function renderDurationChart(durations) {
    const keys = ['p50', 'p95', 'p99', 'max'].filter((k) => durations[k] !== undefined);
    const values = keys.map((k) => round2(num(durations[k])));
    const count = durations.count !== undefined ? num(durations.count) : null;
    $('durations-caption').textContent = count === null
      ? 'Milliseconds from placement to outcome.'
      : `Milliseconds from placement to outcome, over ${plural(count, 'saga')}.`;
    const c = chart('chart-durations', () => ({
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: baseOptions({
        scales: {
          x: { grid: { display: false } },
          y: { beginAtZero: true, grid: { color: () => palette.grid }, title: { display: true, text: 'ms' } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => duration(ctx.parsed.y) } },
        },
      }),
    }));
    if (c) {
      c.data.labels = keys;
      c.data.datasets = [{
        label: 'Saga duration',
        data: values,
        backgroundColor: keys.map((_, i) => palette.series[i % palette.series.length]),
        borderRadius: 6,
        maxBarThickness: 56,
      }];
      c.update();
    }
    $('chart-durations').setAttribute('aria-label', `Saga duration percentiles: ${keys
      .map((k, i) => `${k} ${duration(values[i])}`).join(', ') || 'none yet'}.`);
    fillTable($('table-durations'), [{ label: 'Percentile' }, { label: 'Duration', num: true }],
      keys.map((k, i) => [k, duration(values[i])]));
  }

  function renderFailureChart(reasons) {
    const empty = $('chart-failures-empty');
    const known = Array.isArray(reasons);
    const rows = (known ? reasons : [])
      .map((r) => ({
        reason: String(r.reason),
        label: r.kind ? `${humane(r.reason)} (${String(r.kind).toLowerCase()})` : humane(r.reason),
        count: num(r.count),
      }))
      .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
    empty.textContent = !known
      ? 'Failure reasons are not reported by this server yet.'
      : rows.length ? '' : 'No failed orders yet.';
    empty.hidden = !empty.textContent;
    const c = countBars('chart-failures');
    if (c) {
      c.data.labels = rows.map((r) => r.label);
      c.data.datasets = [{
        label: 'Orders',
        data: rows.map((r) => r.count),
        reasons: rows.map((r) => r.reason), // the codes, for tools reading the chart
        backgroundColor: palette.bad,
        borderRadius: 4,
        maxBarThickness: 22,
      }];
      c.update();
    }
    $('chart-failures').setAttribute('aria-label', `Failure reasons: ${rows
      .map((r) => `${r.label} ${integer.format(r.count)}`).join(', ') || 'none'}.`);
    fillTable($('table-failures'), [{ label: 'Reason' }, { label: 'Orders', num: true }],
      rows.map((r) => [r.label, integer.format(r.count)]));
  }

  function resetDashboard() {
    for (const id of Object.keys(charts)) {
      charts[id].destroy();
      delete charts[id];
    }
    lastRender = null;
    for (const id of ['confirmed-orders', 'open-orders', 'failed-orders', 'conversion', 'saga-p95']) {
      const e = $(id);
      delete e.dataset.value;
      e.textContent = '–';
    }
    for (const card of $('sales-cards').querySelectorAll('article[data-currency]')) card.remove();
    $('sales-cards-empty').hidden = false;
    for (const id of ['table-sales', 'table-status', 'table-durations', 'table-failures']) {
      $(id).replaceChildren();
    }
    $('as-of').textContent = 'never';
    showDashboardError('');
  }

  // A change of colour scheme recolours the charts.
  darkScheme.addEventListener('change', () => {
    readPalette();
    for (const id of Object.keys(charts)) {
      charts[id].destroy();
      delete charts[id];
    }
    if (lastRender) renderCharts(...lastRender);
  });

  // ---------------------------------------------------------------------------------------
  // Start

  readPalette();
  session = readStoredSession();
  if (session) {
    scheduleRenewal();
    enterDashboard();
  } else {
    showSignIn('', '');
  }
})();

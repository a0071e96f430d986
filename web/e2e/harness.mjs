// Test harness for the browser end-to-end suite: starts the real `quire` server binary on a
// free port with a temporary data directory, launches Debian's Chromium through playwright-core,
// and offers small helpers (REST calls, signed-in browser contexts, waiting for convergence).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const artifacts = join(repoRoot, 'test-artifacts');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** Starts `quire serve` and resolves once it printed its address. */
export async function startServer() {
  const bin = process.env.QUIRE_BIN ?? join(repoRoot, 'target/release/quire');
  if (!existsSync(bin)) throw new Error(`${bin} not found: build it with \`cargo build --release -p quire\``);
  const webDir = join(repoRoot, 'web/app/dist');
  if (!existsSync(join(webDir, 'index.html'))) throw new Error('web/app/dist is missing: run `npm --prefix web run build`');
  const data = mkdtempSync(join(tmpdir(), 'quire-e2e-'));
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data, '--web-dir', webDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  let log = '';
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not announce its address in 30 s:\n${log}`)), 30_000);
    const onData = (buf) => {
      log += buf.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.on('data', (b) => {
    if (process.env.QUIRE_E2E_SERVER_LOG) process.stderr.write(b);
  });
  return {
    url,
    async stop() {
      child.removeAllListeners('exit');
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** REST client for setting up fixtures. */
export function rest(base) {
  const call = async (method, path, token, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    signup: (username, password = 'correct horse battery') => call('POST', '/api/auth/signup', null, { username, password }),
    createDocument: (s, title) => call('POST', '/api/documents', s.token, { title }),
    share: (s, docId, username, role) => call('POST', `/api/documents/${docId}/collaborators`, s.token, { username, role }),
    revoke: (s, docId, userId) => call('DELETE', `/api/documents/${docId}/collaborators/${userId}`, s.token),
  };
}

let userCounter = 0;
/** A fresh, unique username (the suite may run against a reused data directory). */
export function uniqueName(prefix) {
  return `${prefix}${Date.now().toString(36)}${(userCounter++).toString(36)}`.slice(0, 32);
}

/** A browser context already signed in as `session` (from the REST signup). */
export async function signedInContext(browser, session, viewport = { width: 1100, height: 720 }) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((s) => {
    if (!localStorage.getItem('quire.session')) localStorage.setItem('quire.session', s);
  }, JSON.stringify(session));
  return context;
}

/** Opens the editor on a document and waits until it is connected and loaded. */
export async function openEditor(context, base, docId) {
  const page = await context.newPage();
  await page.goto(`${base}/#/d/${docId}`);
  await page.waitForSelector('.cm-content');
  await waitFor(page, () => window.quire && window.quire.status() === 'connected');
  return page;
}

/** Polls a predicate in the page until it holds. */
export async function waitFor(page, fn, arg, timeout = 10_000) {
  await page.waitForFunction(fn, arg, { timeout, polling: 20 });
}

export const state = (page) =>
  page.evaluate(() => ({ text: window.quire.text(), unconfirmed: window.quire.unconfirmed(), status: window.quire.status(), version: window.quire.version() }));

/** Waits until every page is connected, has nothing unconfirmed and all show the same text. */
export async function converge(pages, timeout = 15_000) {
  const start = Date.now();
  let last = [];
  while (Date.now() - start < timeout) {
    last = await Promise.all(pages.map(state));
    const ok = last.every((s) => s.status === 'connected' && s.unconfirmed === 0 && s.version === last[0].version && s.text === last[0].text);
    if (ok) return last[0].text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pages did not converge: ${JSON.stringify(last)}`);
}

/** The server's text, read through a fresh connection (a new page joins and gets a snapshot). */
export async function serverText(context, base, docId) {
  const page = await openEditor(context, base, docId);
  const { text } = await state(page);
  await page.close();
  return text;
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Browser end-to-end suite: the real server binary, the built app, Debian's Chromium.
// Run with `npm --prefix web run e2e` (after `cargo build --release -p quire` and the web build;
// `make test-e2e` does all three). Prints one line per test and a final `N passed, N failed`;
// exits non-zero if anything failed. Screenshots go to test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  artifacts,
  assert,
  assertEqual,
  converge,
  launchBrowser,
  openEditor,
  rest,
  serverText,
  signedInContext,
  startServer,
  state,
  uniqueName,
  waitFor,
} from './harness.mjs';

const TEST_TIMEOUT_MS = 90_000;
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/** A document owned by a fresh user, plus helpers to add collaborators. */
async function fixture(env, title = 'E2E document') {
  const owner = await env.api.signup(uniqueName('owner'));
  const doc = await env.api.createDocument(owner, title);
  const ownerCtx = await signedInContext(env.browser, owner);
  env.contexts.push(ownerCtx);
  const addUser = async (prefix, role) => {
    const s = await env.api.signup(uniqueName(prefix));
    if (role) await env.api.share(owner, doc.id, s.user.username, role);
    const ctx = await signedInContext(env.browser, s);
    env.contexts.push(ctx);
    return { session: s, ctx };
  };
  return { owner, doc, ownerCtx, addUser };
}

/** Types into the editor at a place chosen by `keys` (e.g. Control+End). */
async function typeAt(page, keys, text, delay = 0) {
  await page.click('.cm-content');
  for (const k of keys) await page.keyboard.press(k);
  await page.keyboard.type(text, { delay });
}

test('sign up, create, rename, share, delete and log out through the UI', async (env) => {
  const ctx = await env.browser.newContext({ viewport: { width: 1100, height: 720 } });
  env.contexts.push(ctx);
  const page = await ctx.newPage();
  const name = uniqueName('ui');
  await page.goto(`${env.url}/#/signup`);
  await page.fill('#username', name);
  await page.fill('#password', 'a long password');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.new-doc');
  await page.fill('#new-title', 'Plan');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.cm-content');
  await waitFor(page, () => window.quire && window.quire.status() === 'connected');
  await page.click('.brand');
  const row = page.locator('.doc-row', { hasText: 'Plan' });
  await row.waitFor();
  assertEqual(await row.locator('.badge').textContent(), 'Owner', 'role badge');

  await row.getByRole('button', { name: 'Rename' }).click();
  await page.fill('#prompt-input', 'Plan v2');
  await page.keyboard.press('Enter');
  await page.locator('.doc-row', { hasText: 'Plan v2' }).waitFor();

  const friend = await env.api.signup(uniqueName('friend'));
  await page.locator('.doc-row', { hasText: 'Plan v2' }).getByRole('button', { name: 'Share' }).click();
  await page.fill('#share-user', friend.user.username.slice(0, 8));
  await page.waitForSelector('.matches li');
  await page.keyboard.press('Enter');
  assertEqual(await page.inputValue('#share-user'), friend.user.username, 'picked user');
  await page.selectOption('#share-role', 'read');
  await page.keyboard.press('Enter');
  await page.locator('.person', { hasText: friend.user.username }).waitFor();
  await page.screenshot({ path: join(artifacts, 'share-dialog.png') });
  await page.keyboard.press('Escape');

  const friendCtx = await signedInContext(env.browser, friend, { width: 380, height: 720 });
  env.contexts.push(friendCtx);
  const fpage = await friendCtx.newPage();
  await fpage.goto(`${env.url}/#/`);
  const shared = fpage.locator('.doc-row', { hasText: 'Plan v2' });
  await shared.waitFor();
  assertEqual(await shared.locator('.badge').textContent(), 'Can read', 'shared role badge');
  await fpage.screenshot({ path: join(artifacts, 'documents-narrow.png') });

  await page.locator('.doc-row', { hasText: 'Plan v2' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).last().click();
  await page.locator('.doc-row', { hasText: 'Plan v2' }).waitFor({ state: 'detached' });

  await page.click('#logout');
  await page.waitForSelector('form.auth');
  await page.fill('#username', name);
  await page.fill('#password', 'a long password');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.new-doc');
});

test('two users type at the same time and both end with the server text', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Concurrent');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  await typeAt(a, [], 'first line\nsecond line');
  const b = await openEditor(bob.ctx, env.url, doc.id);
  await converge([a, b]);
  const aText = ' typed by A, concurrently';
  const bText = ' typed by B, at the same time';
  await Promise.all([typeAt(a, ['Control+Home', 'End'], aText, 15), typeAt(b, ['Control+End'], bText, 15)]);
  const text = await converge([a, b]);
  assertEqual(text, `first line${aText}\nsecond line${bText}`, 'converged text');
  assertEqual(await serverText(ownerCtx, env.url, doc.id), text, 'server text');
  // Both at one spot: interleaving is up to the tie-break, but nothing is lost and all agree.
  await Promise.all([typeAt(a, ['Control+End'], 'qqqqqqqq', 5), typeAt(b, ['Control+End'], 'zzzzzzzz', 5)]);
  const text2 = await converge([a, b]);
  assertEqual(text2.replace(/[qz]/g, ''), text, 'text apart from the same-spot typing');
  assertEqual([...text2].filter((c) => c === 'q').length, 8, 'q count');
  assertEqual([...text2].filter((c) => c === 'z').length, 8, 'z count');
  assertEqual(await serverText(ownerCtx, env.url, doc.id), text2, 'server text after same-spot typing');
  await a.locator('.cm-peer-label').first().waitFor();
  await b.locator('.cm-peer-label').first().waitFor();
  await a.screenshot({ path: join(artifacts, 'editor-two-users-a.png') });
  await b.screenshot({ path: join(artifacts, 'editor-two-users-b.png') });
});

test('offline edits are kept and converge on reconnect, nothing lost', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Offline');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  await typeAt(a, [], 'shared text');
  const b = await openEditor(bob.ctx, env.url, doc.id);
  await converge([a, b]);
  await ownerCtx.setOffline(true);
  await waitFor(a, () => window.quire.status() === 'offline');
  await typeAt(a, ['Control+Home'], '[A offline] ', 10);
  await typeAt(b, ['Control+End'], ' [B online]', 10);
  const indicator = await a.locator('.status').textContent();
  assert(/Offline · \d+ unsaved edits?/.test(indicator ?? ''), `indicator while offline: ${indicator}`);
  await a.screenshot({ path: join(artifacts, 'editor-offline.png') });
  await ownerCtx.setOffline(false);
  const text = await converge([a, b]);
  assertEqual(text, '[A offline] shared text [B online]', 'converged text');
  assertEqual(await serverText(bob.ctx, env.url, doc.id), text, 'server text');
});

/** The drafts of unconfirmed edits stored in the page's localStorage (app/src/drafts.ts). */
const storedDrafts = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('quire.draft.')));

test('unconfirmed edits survive a reload and reach the server once', async (env) => {
  const { doc, ownerCtx } = await fixture(env, 'Reload');
  // A reload needs the network (the app has no service worker), so while the page reloads the
  // realtime server is what stays unreachable: its WebSocket is refused.
  let serverDown = false;
  await ownerCtx.routeWebSocket(/\/api\/ws/, (ws) => (serverDown ? ws.close() : ws.connectToServer()));
  const a = await openEditor(ownerCtx, env.url, doc.id);
  await typeAt(a, [], 'confirmed');
  await converge([a]);
  await ownerCtx.setOffline(true);
  await waitFor(a, () => window.quire.status() === 'offline');
  await typeAt(a, ['Control+End'], ' typed offline', 10);
  serverDown = true;
  await ownerCtx.setOffline(false);
  let asked = false;
  a.once('dialog', (d) => {
    asked = d.type() === 'beforeunload';
    void d.accept();
  });
  await a.reload();
  assert(asked, 'the browser asked before leaving a page with unsaved edits');
  await a.waitForSelector('.cm-content');
  const restored = await state(a);
  assertEqual(restored.text, 'confirmed typed offline', 'text after the reload');
  const indicator = (await a.locator('.status').textContent()) ?? '';
  assert(/\d+ unsaved edits?/.test(indicator), `indicator after the reload: ${indicator}`);
  // A second tab of the same user does not get the draft while the first one holds it.
  const second = await ownerCtx.newPage();
  await second.goto(`${env.url}/#/d/${doc.id}`);
  await waitFor(second, () => window.quire !== undefined);
  assertEqual((await state(second)).unconfirmed, 0, 'unsaved edits in a second tab');
  await second.close();
  serverDown = false;
  await ownerCtx.setOffline(true); // back online: the client reconnects at once
  await ownerCtx.setOffline(false);
  assertEqual(await converge([a]), 'confirmed typed offline', 'converged text');
  assertEqual(await serverText(ownerCtx, env.url, doc.id), 'confirmed typed offline', 'server text');
  assertEqual((await storedDrafts(a)).length, 0, 'drafts left once everything is confirmed');
});

test('logging out deletes the drafts of unconfirmed edits', async (env) => {
  const { doc, ownerCtx } = await fixture(env, 'Logout');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  await ownerCtx.setOffline(true);
  await waitFor(a, () => window.quire.status() === 'offline');
  await typeAt(a, [], 'private words');
  await waitFor(a, () => Object.keys(localStorage).some((k) => k.startsWith('quire.draft.')));
  await a.click('#logout');
  await a.waitForSelector('form.auth');
  assertEqual((await storedDrafts(a)).length, 0, 'drafts left after logging out');
});

test('a reader cannot type', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Read only');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  await typeAt(a, [], 'only the owner writes here');
  await converge([a]);
  const reader = await addUser('rita', 'read');
  const r = await openEditor(reader.ctx, env.url, doc.id);
  assertEqual(await r.getAttribute('.cm-content', 'contenteditable'), 'false', 'contenteditable');
  assert(await r.locator('.badge', { hasText: 'Read only' }).isVisible(), 'read-only badge visible');
  await r.click('.cm-content');
  await r.keyboard.type('zzz');
  await r.keyboard.press('Backspace');
  await new Promise((res) => setTimeout(res, 300));
  const rs = await state(r);
  assertEqual(rs.text, 'only the owner writes here', 'reader text');
  assertEqual(rs.unconfirmed, 0, 'reader unconfirmed edits');
  assertEqual(await serverText(ownerCtx, env.url, doc.id), 'only the owner writes here', 'server text');
});

test('a revoked user is shown that access ended', async (env) => {
  const { owner, doc, ownerCtx, addUser } = await fixture(env, 'Revocation');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  const b = await openEditor(bob.ctx, env.url, doc.id);
  await typeAt(b, [], 'bob was here');
  await converge([a, b]);
  await env.api.revoke(owner, doc.id, bob.session.user.id);
  const banner = b.locator('.banner');
  await banner.waitFor({ state: 'visible', timeout: 10_000 });
  const msg = (await banner.textContent()) ?? '';
  assert(/access to this document has ended/i.test(msg), `banner: ${msg}`);
  assertEqual(await b.locator('.status').textContent(), 'Access ended', 'indicator');
  assertEqual(await b.getAttribute('.cm-content', 'contenteditable'), 'false', 'editor locked after revocation');
  await b.screenshot({ path: join(artifacts, 'editor-revoked.png') });
});

test('an expired or invalid session is told to log in again', async (env) => {
  const { doc, addUser } = await fixture(env, 'Session');
  const bob = await addUser('bob', 'write');
  const stale = { ...bob.session, token: `${bob.session.token}x` };
  const ctx = await signedInContext(env.browser, stale);
  env.contexts.push(ctx);
  const page = await ctx.newPage();
  await page.goto(`${env.url}/#/d/${doc.id}`);
  const notice = page.locator('.notice');
  await notice.waitFor({ timeout: 10_000 });
  assert(/session has expired/i.test((await notice.textContent()) ?? ''), 'session notice');
  await page.waitForSelector('form.auth');
});

test('emoji and other astral characters arrive intact in the other browser', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Emoji');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  const b = await openEditor(bob.ctx, env.url, doc.id);
  const sample = 'héllo 😀 𝄞 👍🏽 家族👨‍👩‍👧 ok';
  await typeAt(a, [], sample, 10);
  assertEqual(await converge([a, b]), sample, 'text typed in A, as seen in B');
  await typeAt(b, ['Control+End'], ' 🎉', 10);
  const text = await converge([a, b]);
  assertEqual(text, `${sample} 🎉`, 'converged text');
  assertEqual(await serverText(bob.ctx, env.url, doc.id), text, 'server text');
});

/**
 * Types `keys` characters in A, `interval` ms apart, and returns, for each, the time until B's
 * editor showed it. B records (time, code point length) on every DOM change of its editor.
 */
async function keystrokeLatencies(a, b, keys, interval, where = 'Control+End') {
  await b.evaluate(() => {
    window.__arrivals = [];
    window.__observer?.disconnect();
    window.__observer = new MutationObserver(() => window.__arrivals.push([Date.now(), window.quire.length()]));
    window.__observer.observe(document.querySelector('.cm-content'), { subtree: true, childList: true, characterData: true });
  });
  const start = await b.evaluate(() => window.quire.length());
  await a.click('.cm-content');
  await a.keyboard.press(where);
  const sent = [];
  for (let i = 0; i < keys; i++) {
    sent.push(Date.now());
    await a.keyboard.press(String.fromCharCode(97 + (i % 26)));
    await new Promise((r) => setTimeout(r, interval));
  }
  await converge([a, b], 30_000);
  const arrivals = await b.evaluate(() => window.__arrivals);
  return sent
    .map((t, i) => {
      const hit = arrivals.find(([, len]) => len >= start + i + 1);
      assert(hit, `keystroke ${i} never arrived`);
      return hit[0] - t;
    })
    .sort((x, y) => x - y);
}

function summary(latencies) {
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  return `p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${latencies[latencies.length - 1]} ms`;
}

test('keystroke-to-other-browser latency (printed, not asserted)', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Latency');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  const b = await openEditor(bob.ctx, env.url, doc.id);
  // 100 ms apart is brisk typing; 30 ms apart is faster than people type, so keystrokes queue
  // behind the one op in flight (protocol §5) and wait for its durable ack.
  for (const interval of [100, 30]) {
    const keys = 60;
    env.notes.push(`keystroke-to-other-browser latency, ${keys} keys ${interval} ms apart: ${summary(await keystrokeLatencies(a, b, keys, interval))}`);
  }
});

test('typing into a 1 MB document stays fast (printed, not asserted)', async (env) => {
  const { doc, ownerCtx, addUser } = await fixture(env, 'Large');
  const bob = await addUser('bob', 'write');
  const a = await openEditor(ownerCtx, env.url, doc.id);
  const line = 'A line of a large document, with an emoji 😀 and a clef 𝄞 in it.\n';
  const big = line.repeat(Math.ceil(1_000_000 / line.length));
  await a.click('.cm-content');
  // Pasted in one go (typing a megabyte through CDP would take minutes).
  const t = Date.now();
  await a.evaluate((text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    document.querySelector('.cm-content').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, big);
  await converge([a], 60_000);
  const pasted = Date.now() - t;
  const b = await openEditor(bob.ctx, env.url, doc.id);
  await converge([a, b], 60_000);
  const keys = 40;
  // At the top, where both editors show the text (CodeMirror renders only the visible part).
  const latencies = await keystrokeLatencies(a, b, keys, 100, 'Control+Home');
  env.notes.push(`1 MB document (${[...big].length} code points, pasted and confirmed in ${pasted} ms), ${keys} keys 100 ms apart: ${summary(latencies)}`);
  await a.screenshot({ path: join(artifacts, 'editor-1mb.png') });
});

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const only = process.env.QUIRE_E2E_ONLY;
  let server;
  let browser;
  let passed = 0;
  let failed = 0;
  const notes = [];
  try {
    server = await startServer();
    browser = await launchBrowser();
    const api = rest(server.url);
    console.log(`server ${server.url}, chromium ${browser.version()}`);
    for (const t of tests) {
      if (only && !t.name.includes(only)) continue;
      const env = { url: server.url, browser, api, contexts: [], notes };
      const started = Date.now();
      let timer;
      try {
        await Promise.race([
          t.fn(env),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
          }),
        ]);
        passed++;
        console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
      } finally {
        clearTimeout(timer);
        for (const c of env.contexts) await c.close().catch(() => {});
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL suite setup: ${e?.stack ?? e}`);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
  }
  for (const n of notes) console.log(n);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

await main();

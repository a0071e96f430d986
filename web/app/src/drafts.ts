/**
 * Edits the server has not confirmed survive a reload: the editor's DocClient draft is kept in
 * localStorage, one entry per user and document, written at most every WRITE_EVERY_MS while
 * edits are unconfirmed (never per keystroke: it holds the whole text) and at once when the
 * page goes away, and removed once everything is confirmed.
 *
 * Only the tab holding the document's Web Lock keeps, and restores, its draft: two tabs that
 * both restored it would resend the same edits, and would overwrite each other's drafts.
 * Without the Web Locks API (an insecure origin) nothing is kept.
 *
 * A crash fires no pagehide, so the draft it leaves can be up to WRITE_EVERY_MS old, and edits
 * made in that time are lost. It never holds an edit twice: when an edit goes out under a new
 * operation id, the stored draft (which has that edit without the id, and would send it again
 * as a new op) is removed at once, before the submit, and written again with the id later.
 */
import type { DocClient, Draft } from '@quire/sdk';

const PREFIX = 'quire.draft.';
const WRITE_EVERY_MS = 500;

const userPrefix = (userId: string) => `${PREFIX}${encodeURIComponent(userId)}/`;

/** The keepers of this tab, so that logging out stops them before deleting their drafts. */
const keepers = new Set<DraftKeeper>();

/** This tab's claim on one document's draft, held while its editor is open. */
export class DraftKeeper {
  /** The draft left by an earlier page, to start the client from. */
  readonly stored: Draft | null;
  private client: DocClient | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private offs: (() => void)[] = [];

  constructor(
    readonly userId: string,
    private readonly key: string,
    private readonly unlock: () => void,
  ) {
    this.stored = load(key);
    keepers.add(this);
  }

  /** Keeps `client`'s draft stored from now on. */
  keep(client: DocClient): void {
    this.client = client;
    const flush = () => this.write();
    window.addEventListener('pagehide', flush);
    this.offs = [
      client.on('draft', () => this.changed()),
      client.on('sent', () => this.forget()),
      () => window.removeEventListener('pagehide', flush),
    ];
    this.changed(); // a stored draft the client could not use is dropped here
  }

  /** Stores what is unconfirmed now and lets another tab take the document. */
  release(): void {
    this.write();
    this.stop();
    this.unlock();
  }

  /** No more writes (logging out): the draft is being deleted. */
  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.client = null;
    keepers.delete(this);
  }

  /** The stored draft lacks an id just given out: remove it now (cheap), rewrite it later. */
  private forget(): void {
    localStorage.removeItem(this.key);
    this.changed();
  }

  private changed(): void {
    if (!this.client) return;
    if (this.client.unconfirmed === 0) this.write(); // removes it: cheap, and at once
    else this.timer ??= setTimeout(() => this.write(), WRITE_EVERY_MS);
  }

  private write(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.client) return;
    const draft = this.client.draft();
    try {
      if (draft) localStorage.setItem(this.key, JSON.stringify(draft));
      else localStorage.removeItem(this.key);
    } catch (e) {
      // Too big for the quota. The older draft must go too: its pending edits may have been
      // sent since, and restoring it would apply them a second time.
      localStorage.removeItem(this.key);
      console.warn('quire: unconfirmed edits could not be kept for a reload', e);
    }
  }
}

function load(key: string): Draft | null {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null') as Draft | null;
  } catch {
    return null;
  }
}

/** Takes the document's draft lock for this tab; null if another tab holds it or there are no Web Locks. */
export function claimDraft(userId: string, documentId: string): Promise<DraftKeeper | null> {
  const locks = navigator.locks as LockManager | undefined;
  if (!locks) return Promise.resolve(null);
  const key = `${userPrefix(userId)}${encodeURIComponent(documentId)}`;
  return new Promise((resolve) => {
    locks
      .request(key, { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(null);
        // Held until the keeper releases it (or the page goes away).
        return new Promise<void>((unlock) => resolve(new DraftKeeper(userId, key, unlock)));
      })
      .catch((e: unknown) => {
        console.warn('quire: no draft lock', e);
        resolve(null);
      });
  });
}

/** Deletes every draft of the user on this computer (logging out). */
export function deleteDrafts(userId: string): void {
  for (const k of [...keepers]) if (k.userId === userId) k.stop();
  const prefix = userPrefix(userId);
  const keys = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i));
  for (const key of keys) if (key?.startsWith(prefix)) localStorage.removeItem(key);
}

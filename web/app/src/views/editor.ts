/**
 * The editor page: CodeMirror bound to a DocClient, a connection indicator (connected /
 * reconnecting / offline, with the number of edits the server has not confirmed yet), the
 * people present, read-only mode for readers, and a clear banner when access ends or the
 * session expires. Edits made offline stay in the client's queue and go out on reconnect; the
 * tab that owns the document's draft (./drafts) also keeps them across a reload, and the
 * browser asks before a page with unconfirmed edits is left.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, keymap, placeholder } from '@codemirror/view';
import { DocClient, type ClientError, type ConnectionStatus, type RemotePeer } from '@quire/sdk';
import { collab, setWritable } from '../binding/collab.js';
import { errorText, h, mount } from '../dom.js';
import { claimDraft, type DraftKeeper } from '../drafts.js';
import type { Cleanup } from '../nav.js';
import { api, isSessionError, session } from '../session.js';
import { header, logout } from './header.js';
import { openShareDialog } from './share.js';

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected',
};

const FATAL_TEXT: Partial<Record<ClientError['code'], string>> = {
  forbidden: 'Your access to this document has ended. The owner removed you or changed its sharing.',
  unauthorized: 'Your session has expired. Log in again to keep editing.',
  not_found: 'This document no longer exists.',
};

export function renderEditor(root: HTMLElement, documentId: string): Cleanup {
  const s = session()!;
  let cleanup: Cleanup | null = null;
  let left = false;
  // The draft lock is answered at once (ifAvailable); the page is built once it is known.
  void claimDraft(s.user.id, documentId).then((keeper) => {
    if (left) keeper?.release();
    else cleanup = editorPage(root, documentId, s.user.id, keeper);
  });
  return () => {
    left = true;
    cleanup?.();
  };
}

/** Starts from the stored draft if there is a usable one. */
function newClient(documentId: string, userId: string, keeper: DraftKeeper | null): DocClient {
  const options = { url: api.websocketUrl(), documentId, userId, token: () => session()?.token ?? '', clientName: 'quire-web' };
  const draft = keeper?.stored;
  if (draft) {
    try {
      return new DocClient({ ...options, draft });
    } catch (e) {
      console.warn('quire: the stored draft could not be restored', e);
    }
  }
  return new DocClient(options);
}

function editorPage(root: HTMLElement, documentId: string, userId: string, keeper: DraftKeeper | null): Cleanup {
  const client = newClient(documentId, userId, keeper);
  let view: EditorView | null = null;

  const title = h('span', { class: 'page-title doc-name' }, 'Loading…');
  const roleBadge = h('span', { class: 'badge', hidden: true });
  const indicator = h('span', { class: 'status', 'data-status': 'connecting', role: 'status', 'aria-live': 'polite' }, STATUS_TEXT.connecting);
  const peers = h('ul', { class: 'peers', 'aria-label': 'People here' });
  const shareButton = h('button', { type: 'button', hidden: true }, 'Share');
  const banner = h('div', { class: 'banner', role: 'alert', hidden: true });
  const host = h('div', { class: 'editor-host', 'aria-busy': 'true' });

  /** Why the connection ended for good (access ended, session expired), once it has. */
  let ended: string | null = null;

  const showStatus = () => {
    const n = client.unconfirmed;
    indicator.dataset.status = client.status;
    indicator.dataset.unconfirmed = String(n);
    const label = ended ?? STATUS_TEXT[client.status];
    indicator.textContent = label + (n > 0 ? ` · ${n} unsaved edit${n === 1 ? '' : 's'}` : '');
  };

  const showBanner = (text: string, action?: HTMLElement) => {
    banner.replaceChildren(h('span', {}, text), action ?? '');
    banner.hidden = false;
  };

  const showPeers = (list: RemotePeer[]) => {
    peers.replaceChildren(
      ...list.map((p) =>
        h('li', { class: 'peer', title: p.username, style: `--peer: ${p.color}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), p.username),
      ),
    );
  };

  const applyRole = () => {
    // Unknown (null) only while a restored draft shows before the join: its edits were made with write access.
    const writable = client.role !== 'read';
    roleBadge.hidden = writable;
    roleBadge.textContent = 'Read only';
    if (view) setWritable(view, writable && client.status !== 'closed');
  };

  const offs = [
    client.on('status', showStatus),
    client.on('unconfirmed', showStatus),
    client.on('presence', showPeers),
    client.on('joined', applyRole),
    client.on('reset', (text) => {
      if (view) return;
      view = new EditorView({
        parent: host,
        state: EditorState.create({
          doc: text,
          extensions: [
            history(),
            drawSelection(),
            highlightActiveLine(),
            highlightSelectionMatches(),
            EditorView.lineWrapping,
            placeholder('Start typing…'),
            keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
            EditorView.contentAttributes.of({ 'aria-label': 'Document text' }),
            collab(client),
          ],
        }),
      });
      host.removeAttribute('aria-busy');
      applyRole();
      view.focus();
    }),
    client.on('error', (e) => {
      if (e.fatal) {
        if (view) setWritable(view, false);
        const text = FATAL_TEXT[e.code] ?? `The connection was closed: ${e.message}`;
        showBanner(
          text,
          e.code === 'unauthorized'
            ? h('button', { type: 'button', class: 'primary', onclick: () => logout('Your session has expired. Please log in again.') }, 'Log in')
            : h('a', { href: '#/', class: 'button' }, 'Back to documents'),
        );
        ended = e.code === 'forbidden' ? 'Access ended' : e.code === 'unauthorized' ? 'Session expired' : 'Disconnected';
        showStatus();
      } else if (e.code === 'forbidden') {
        applyRole();
        showBanner('You can only read this document; your last edit was not saved.');
      } else if (e.code === 'bad_op' || e.code === 'too_large') {
        showBanner(`The server refused an edit, which was undone: ${e.message}`);
      } else if (e.code === 'outcome_unknown') {
        showBanner('An edit made before a long disconnection could not be confirmed. The text now shows what the server has: check that your last edit is there.');
      } else {
        console.warn(`quire: ${e.code}: ${e.message}`);
      }
    }),
  ];

  const onOffline = () => client.setOffline(true);
  const onOnline = () => client.setOffline(false);
  // The browser asks before leaving while the server has not confirmed everything.
  const onBeforeUnload = (e: BeforeUnloadEvent) => {
    if (client.unconfirmed === 0) return;
    e.preventDefault();
    e.returnValue = '';
  };
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  window.addEventListener('beforeunload', onBeforeUnload);
  keeper?.keep(client);

  api.getDocument(documentId).then(
    (d) => {
      title.textContent = d.title || 'Untitled';
      document.title = `${title.textContent} · Quire`;
      if (d.role === 'owner') {
        shareButton.hidden = false;
        shareButton.onclick = () => void openShareDialog(documentId, title.textContent ?? '');
      }
    },
    (e) => {
      if (isSessionError(e)) logout('Your session has expired. Please log in again.');
      else showBanner(errorText(e), h('a', { href: '#/', class: 'button' }, 'Back to documents'));
    },
  );

  mount(
    root,
    header(h('a', { href: '#/', class: 'back', 'aria-label': 'Back to documents' }, '←'), title, roleBadge),
    h('div', { class: 'editor-bar' }, indicator, peers, shareButton),
    banner,
    h('main', { class: 'editor-page' }, host),
  );
  // A debugging and testing hook: read-only views of the client's state.
  (window as unknown as { quire?: unknown }).quire = {
    text: () => client.text.toString(),
    length: () => client.text.length,
    unconfirmed: () => client.unconfirmed,
    status: () => client.status,
    version: () => client.version,
  };
  if (!navigator.onLine) client.setOffline(true);
  client.start();

  return () => {
    for (const off of offs) off();
    window.removeEventListener('offline', onOffline);
    window.removeEventListener('online', onOnline);
    window.removeEventListener('beforeunload', onBeforeUnload);
    keeper?.release();
    client.close();
    view?.destroy();
    document.title = 'Quire';
  };
}

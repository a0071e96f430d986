/** The document list: owned and shared documents with their role; create, rename, delete, share. */
import type { DocumentInfo } from '@quire/sdk';
import { errorText, h, mount } from '../dom.js';
import { go, takeNotice, type Cleanup } from '../nav.js';
import { api, isSessionError } from '../session.js';
import { confirmDialog, promptDialog } from './dialogs.js';
import { header, logout } from './header.js';
import { openShareDialog } from './share.js';

const ROLE_LABEL = { owner: 'Owner', write: 'Can edit', read: 'Can read' } as const;

export function renderDocuments(root: HTMLElement): Cleanup {
  const notice = takeNotice();
  const status = h('p', { class: 'error', role: 'alert', hidden: true });
  const list = h('ul', { class: 'doc-list', 'aria-label': 'Documents' });
  const title = h('input', { id: 'new-title', placeholder: 'Untitled', maxlength: 200, 'aria-label': 'New document title' });
  const create = h(
    'form',
    { class: 'row new-doc' },
    title,
    h('button', { type: 'submit', class: 'primary' }, 'New document'),
  );

  const fail = (e: unknown) => {
    if (isSessionError(e)) return logout('Your session has expired. Please log in again.');
    status.textContent = errorText(e);
    status.hidden = false;
  };

  const refresh = async () => {
    try {
      const docs = await api.listAllDocuments();
      list.replaceChildren(...(docs.length ? docs.map(row) : [h('li', { class: 'muted empty' }, 'No documents yet. Create one above.')]));
    } catch (e) {
      fail(e);
    }
  };

  const row = (d: DocumentInfo): HTMLElement => {
    const owner = d.role === 'owner';
    const name = d.title || 'Untitled';
    return h(
      'li',
      { class: 'doc-row', 'data-id': d.id },
      h('a', { href: `#/d/${encodeURIComponent(d.id)}`, class: 'doc-title' }, name),
      h('span', { class: `badge role-${d.role}` }, ROLE_LABEL[d.role] ?? d.role),
      !owner ? h('span', { class: 'muted owner' }, 'Shared with you') : null,
      owner
        ? h(
            'span',
            { class: 'actions' },
            h('button', { type: 'button', onclick: () => openShareDialog(d.id, name) }, 'Share'),
            h('button', { type: 'button', onclick: () => rename(d.id, name) }, 'Rename'),
            h('button', { type: 'button', class: 'danger', onclick: () => remove(d.id, name) }, 'Delete'),
          )
        : null,
    );
  };

  const rename = async (id: string, current: string) => {
    const next = await promptDialog('Rename document', 'Title', current, 'Rename');
    if (!next || next === current) return;
    await api.renameDocument(id, next).then(refresh, fail);
  };

  const remove = async (id: string, name: string) => {
    if (!(await confirmDialog('Delete document', `Delete “${name}” for everyone? This cannot be undone.`, 'Delete'))) return;
    await api.deleteDocument(id).then(refresh, fail);
  };

  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const d = await api.createDocument(title.value.trim() || 'Untitled');
      go(`#/d/${encodeURIComponent(d.id)}`);
    } catch (err) {
      fail(err);
    }
  });

  // Keyboard: "n" starts a new document, "/" jumps to the list.
  const keys = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    if (e.key === 'n') {
      e.preventDefault();
      title.focus();
    } else if (e.key === '/') {
      e.preventDefault();
      list.querySelector<HTMLAnchorElement>('a')?.focus();
    }
  };
  document.addEventListener('keydown', keys);

  mount(
    root,
    header(h('span', { class: 'page-title' }, 'Documents')),
    h(
      'main',
      { class: 'page' },
      notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
      create,
      status,
      list,
      h('p', { class: 'muted hint' }, h('kbd', {}, 'n'), ' new document · ', h('kbd', {}, '/'), ' go to the list · ', h('kbd', {}, 'Tab'), ' to move'),
    ),
  );
  void refresh();
  return () => document.removeEventListener('keydown', keys);
}

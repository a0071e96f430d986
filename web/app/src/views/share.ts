/**
 * The share dialog: search users by name prefix (arrow keys + Enter pick a match), give read or
 * write access, change or remove existing collaborators.
 */
import type { Collaborator, User } from '@quire/sdk';
import { errorText, h } from '../dom.js';
import { api, session } from '../session.js';
import { modal } from './dialogs.js';

export function openShareDialog(documentId: string, title: string): Promise<unknown> {
  return modal<never>(`Share “${title}”`, (close) => {
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const search = h('input', {
      id: 'share-user',
      placeholder: 'Username',
      autocomplete: 'off',
      role: 'combobox',
      'aria-expanded': 'false',
      'aria-controls': 'share-matches',
      'aria-autocomplete': 'list',
    });
    const matches = h('ul', { id: 'share-matches', class: 'matches', role: 'listbox', hidden: true });
    const role = h('select', { id: 'share-role', 'aria-label': 'Access' }, h('option', { value: 'write' }, 'Can edit'), h('option', { value: 'read' }, 'Can read'));
    const people = h('ul', { class: 'collaborators', 'aria-label': 'People with access' });
    let found: User[] = [];
    let active = -1;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const showError = (e: unknown) => {
      error.textContent = errorText(e);
      error.hidden = false;
    };

    const refresh = async () => {
      try {
        const list = await api.listCollaborators(documentId);
        people.replaceChildren(...list.map(person));
      } catch (e) {
        showError(e);
      }
    };

    const person = (c: Collaborator): HTMLElement => {
      const { id, username } = c.user;
      if (c.role === 'owner') return h('li', { class: 'person' }, h('span', {}, username), h('span', { class: 'badge role-owner' }, 'Owner'));
      const sel = h(
        'select',
        { 'aria-label': `Access for ${username}` },
        h('option', { value: 'write', selected: c.role === 'write' }, 'Can edit'),
        h('option', { value: 'read', selected: c.role === 'read' }, 'Can read'),
      );
      sel.addEventListener('change', () => api.changeRole(documentId, id, sel.value as 'read' | 'write').then(refresh, showError));
      return h(
        'li',
        { class: 'person' },
        h('span', {}, username),
        sel,
        h('button', { type: 'button', class: 'danger', onclick: () => api.revoke(documentId, id).then(refresh, showError) }, 'Remove'),
      );
    };

    const renderMatches = () => {
      matches.replaceChildren(
        ...found.map((u, i) =>
          h(
            'li',
            { role: 'option', id: `match-${i}`, 'aria-selected': i === active ? 'true' : 'false', class: i === active ? 'active' : '', onmousedown: () => pick(i) },
            u.username,
          ),
        ),
      );
      matches.hidden = found.length === 0;
      search.setAttribute('aria-expanded', String(found.length > 0));
      if (active >= 0) search.setAttribute('aria-activedescendant', `match-${active}`);
      else search.removeAttribute('aria-activedescendant');
    };

    const pick = (i: number) => {
      search.value = found[i].username;
      found = [];
      active = -1;
      renderMatches();
    };

    search.addEventListener('input', () => {
      clearTimeout(timer);
      const prefix = search.value.trim();
      if (!prefix) {
        found = [];
        return renderMatches();
      }
      timer = setTimeout(async () => {
        try {
          const me = session()?.user.id;
          found = (await api.searchUsers(prefix, 8)).filter((u) => u.id !== me);
          active = found.length ? 0 : -1;
          renderMatches();
        } catch (e) {
          showError(e);
        }
      }, 150);
    });
    search.addEventListener('keydown', (e) => {
      if (found.length === 0) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : found.length - 1)) % found.length;
        renderMatches();
      } else if (e.key === 'Enter' && active >= 0 && search.value.trim() !== found[active].username) {
        e.preventDefault();
        pick(active);
      }
    });

    const form = h(
      'form',
      { class: 'share-form' },
      h('label', { for: 'share-user' }, 'Add a person'),
      h('div', { class: 'row' }, h('div', { class: 'combo' }, search, matches), role, h('button', { type: 'submit', class: 'primary' }, 'Share')),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const username = search.value.trim();
      if (!username) return;
      error.hidden = true;
      try {
        await api.share(documentId, { username }, role.value as 'read' | 'write');
        search.value = '';
        found = [];
        renderMatches();
        await refresh();
      } catch (err) {
        showError(err);
      }
    });

    void refresh();
    queueMicrotask(() => search.focus());
    return [
      form,
      error,
      h('h3', {}, 'People with access'),
      people,
      h('div', { class: 'row end' }, h('button', { type: 'button', onclick: () => close(undefined) }, 'Done')),
    ];
  });
}

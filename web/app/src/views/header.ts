/** The top bar shared by the signed-in pages: app name, page content, user and log out. */
import { h } from '../dom.js';
import { deleteDrafts } from '../drafts.js';
import { go } from '../nav.js';
import { session, signOut } from '../session.js';

export function header(...middle: Node[]): HTMLElement {
  const user = session()?.user.username ?? '';
  return h(
    'header',
    { class: 'topbar' },
    h('a', { href: '#/', class: 'brand', title: 'All documents' }, 'Quire'),
    h('div', { class: 'topbar-middle' }, ...middle),
    h(
      'div',
      { class: 'topbar-user' },
      h('span', { class: 'muted username', title: 'Signed in as' }, user),
      h('button', { type: 'button', id: 'logout', onclick: logOutByChoice }, 'Log out'),
    ),
  );
}

/**
 * Leaving on purpose: on a shared computer nothing of the user's may stay, not even edits the
 * server has not confirmed. (An expired session keeps them, for when the user logs in again.)
 */
function logOutByChoice(): void {
  const userId = session()?.user.id;
  if (userId) deleteDrafts(userId);
  logout();
}

export function logout(message?: string): void {
  signOut();
  go('#/login', message);
}

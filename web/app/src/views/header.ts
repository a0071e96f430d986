/** The top bar shared by the signed-in pages: app name, page content, user and log out. */
import { h } from '../dom.js';
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
      h('button', { type: 'button', id: 'logout', onclick: () => logout() }, 'Log out'),
    ),
  );
}

export function logout(message?: string): void {
  signOut();
  go('#/login', message);
}

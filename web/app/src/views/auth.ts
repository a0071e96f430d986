/** Log in / sign up. One form; the mode switches with a link. */
import { h, mount, errorText } from '../dom.js';
import { api, signIn } from '../session.js';
import { go, takeNotice, type Cleanup } from '../nav.js';

export function renderAuth(root: HTMLElement, mode: 'login' | 'signup'): Cleanup {
  const notice = takeNotice();
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true, maxlength: 64 });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: mode === 'login' ? 'current-password' : 'new-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, mode === 'login' ? 'Log in' : 'Create account');
  const form = h(
    'form',
    { class: 'card auth', 'aria-label': mode === 'login' ? 'Log in' : 'Sign up' },
    h('h1', {}, 'Quire'),
    h('p', { class: 'muted' }, mode === 'login' ? 'Log in to your documents.' : 'Create an account.'),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    h('label', { for: 'username' }, 'Username'),
    username,
    h('label', { for: 'password' }, 'Password'),
    password,
    error,
    submit,
    h(
      'p',
      { class: 'muted switch' },
      mode === 'login' ? 'No account? ' : 'Already registered? ',
      h('a', { href: mode === 'login' ? '#/signup' : '#/login' }, mode === 'login' ? 'Sign up' : 'Log in'),
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const s = mode === 'login' ? await api.login(username.value.trim(), password.value) : await api.signup(username.value.trim(), password.value);
      signIn(s);
      go('#/');
    } catch (e) {
      error.textContent = errorText(e);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  mount(root, h('main', { class: 'center' }, form));
  username.focus();
  return () => {};
}

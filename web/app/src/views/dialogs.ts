/** Small modal dialogs on the native <dialog> element: focus is trapped, Escape cancels. */
import { h } from '../dom.js';

/** Shows a dialog built by `body`; resolves with what `close` was given (undefined on Escape). */
export function modal<T>(title: string, body: (close: (v: T | undefined) => void) => Node[]): Promise<T | undefined> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'card dialog', 'aria-label': title });
    let done = false;
    const close = (v: T | undefined) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    dialog.append(h('h2', {}, title), ...body(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function promptDialog(title: string, label: string, value: string, action: string): Promise<string | undefined> {
  return modal<string>(title, (close) => {
    const input = h('input', { id: 'prompt-input', value, required: true, maxlength: 200, autofocus: true });
    const form = h(
      'form',
      {},
      h('label', { for: 'prompt-input' }, label),
      input,
      h(
        'div',
        { class: 'row end' },
        h('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, action),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) close(v);
    });
    queueMicrotask(() => input.select());
    return [form];
  });
}

export function confirmDialog(title: string, message: string, action: string): Promise<boolean> {
  return modal<boolean>(title, (close) => [
    h('p', {}, message),
    h(
      'div',
      { class: 'row end' },
      h('button', { type: 'button', onclick: () => close(false), autofocus: true }, 'Cancel'),
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, action),
    ),
  ]).then((v) => v === true);
}

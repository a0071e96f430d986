/**
 * Remote cursors and selections: a state field of decorations (a tinted mark for the selection,
 * a caret widget with the user's name). Positions arrive in UTF-16 via `setPeers` and are mapped
 * through every later change, so they stay put while text moves around them.
 */
import { StateEffect, StateField, type Range } from '@codemirror/state';
import { Decoration, EditorView, WidgetType, type DecorationSet } from '@codemirror/view';

export interface PeerCursor {
  userId: string;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

export const setPeers = StateEffect.define<PeerCursor[]>();

class CaretWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: string,
  ) {
    super();
  }
  eq(other: CaretWidget): boolean {
    return other.name === this.name && other.color === this.color;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'cm-peer-caret';
    caret.style.borderColor = this.color;
    const label = document.createElement('span');
    label.className = 'cm-peer-label';
    label.style.backgroundColor = this.color;
    label.textContent = this.name;
    caret.append(label);
    caret.setAttribute('aria-label', `${this.name}'s cursor`);
    return caret;
  }
  ignoreEvent(): boolean {
    return true;
  }
}

function build(peers: PeerCursor[], docLength: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const p of peers) {
    const head = Math.min(p.head, docLength);
    const anchor = Math.min(p.anchor, docLength);
    const from = Math.min(head, anchor);
    const to = Math.max(head, anchor);
    if (to > from) {
      ranges.push(
        Decoration.mark({ class: 'cm-peer-selection', attributes: { style: `background-color: ${p.color}33` } }).range(from, to),
      );
    }
    ranges.push(Decoration.widget({ widget: new CaretWidget(p.name, p.color), side: 1 }).range(head));
  }
  return Decoration.set(ranges, true);
}

export const peerCursors = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    let next = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setPeers)) next = build(e.value, tr.newDoc.length);
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

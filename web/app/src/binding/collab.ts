/**
 * The CodeMirror 6 binding of a DocClient.
 * - Local transactions become ops (changesToOp) handed to the client; the selection is sent as
 *   presence.
 * - Remote ops arrive as UTF-16 changes against the current editor text and are dispatched with
 *   the `remote` annotation (not re-sent, not in undo history); CodeMirror maps the local
 *   selection through them, so the caret stays where the user left it.
 * - Readers get a read-only editor; remote peers are drawn by ./cursors.
 */
import { Annotation, Compartment, EditorState, Transaction, type Extension } from '@codemirror/state';
import { EditorView, ViewPlugin, type ViewUpdate } from '@codemirror/view';
import type { DocClient, RemotePeer } from '@quire/sdk';
import { changesToOp, wholeCodePoints } from './changes.js';
import { peerCursors, setPeers } from './cursors.js';

export const remote = Annotation.define<boolean>();

const editable = new Compartment();

function editability(writable: boolean): Extension {
  return [EditorState.readOnly.of(!writable), EditorView.editable.of(writable)];
}

/** Makes the editor read-only (readers, revoked users) or writable again. */
export function setWritable(view: EditorView, writable: boolean): void {
  view.dispatch({ effects: editable.reconfigure(editability(writable)) });
}

export function collab(client: DocClient): Extension {
  const plugin = ViewPlugin.define((view) => {
    const toCursors = (peers: RemotePeer[]) =>
      peers.map((p) => ({
        userId: p.userId,
        name: p.username,
        color: p.color,
        anchor: client.text.cpToUtf16(p.anchor),
        head: client.text.cpToUtf16(p.head),
      }));
    const offs = [
      client.on('reset', (text) => {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          annotations: [remote.of(true), Transaction.addToHistory.of(false)],
        });
      }),
      client.on('remote', ({ changes }) => {
        view.dispatch({ changes, annotations: [remote.of(true), Transaction.addToHistory.of(false)] });
      }),
      client.on('presence', (peers) => view.dispatch({ effects: setPeers.of(toCursors(peers)) })),
    ];
    return {
      update(u: ViewUpdate) {
        for (const tr of u.transactions) {
          if (tr.docChanged && !tr.annotation(remote)) client.applyLocal(changesToOp(tr.changes, client.text));
        }
        if (u.selectionSet || (u.docChanged && u.view.hasFocus)) {
          const sel = u.state.selection.main;
          client.setSelection(client.text.utf16ToCp(sel.anchor), client.text.utf16ToCp(sel.head));
        }
      },
      destroy() {
        for (const off of offs) off();
      },
    };
  });
  return [plugin, peerCursors, wholeCodePoints((tr) => tr.annotation(remote) === true), editable.of(editability(client.role !== 'read'))];
}

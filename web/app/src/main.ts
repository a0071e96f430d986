/**
 * Entry point and router. Routes live in the URL hash (`#/login`, `#/signup`, `#/`,
 * `#/d/<id>`) so that `quire serve` only has to serve index.html. Each view renders into the
 * root and returns a cleanup function that the router calls before the next view.
 */
import './style.css';
import { go, setRouter, type Cleanup } from './nav.js';
import { session } from './session.js';
import { renderAuth } from './views/auth.js';
import { renderDocuments } from './views/documents.js';
import { renderEditor } from './views/editor.js';

const root = document.getElementById('app')!;
let cleanup: Cleanup = () => {};

function route(): void {
  cleanup();
  cleanup = () => {};
  const path = location.hash.replace(/^#/, '') || '/';
  const signedIn = session() !== null;
  if (path === '/login' || path === '/signup') {
    if (signedIn) return go('#/');
    cleanup = renderAuth(root, path === '/signup' ? 'signup' : 'login');
    return;
  }
  if (!signedIn) return go('#/login');
  const doc = /^\/d\/(.+)$/.exec(path);
  cleanup = doc ? renderEditor(root, decodeURIComponent(doc[1])) : renderDocuments(root);
}

setRouter(route);
window.addEventListener('hashchange', route);
route();

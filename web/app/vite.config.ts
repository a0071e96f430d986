import { defineConfig } from 'vite';

// `quire serve --web-dir web/app/dist` serves the build; `npm run dev` proxies the API to a
// server on QUIRE_API (default http://127.0.0.1:8080).
const api = process.env.QUIRE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/api': { target: api, ws: true } } },
});

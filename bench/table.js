// Prints two `quire bench load` JSON lines (ShareDB, Quire) side by side with their ratio.
// Usage: node table.js TITLE SHAREDB_JSON QUIRE_JSON
const [title, a, b] = process.argv.slice(2);
const parse = (s) => { try { return JSON.parse(s); } catch { return {}; } };
const [sharedb, quire] = [parse(a), parse(b)];
const figures = ['ops', 'ops_per_s', 'ack_p50_ms', 'ack_p99_ms', 'ack_max_ms', 'broadcast_p50_ms',
  'broadcast_p99_ms', 'broadcast_max_ms', 'join_p50_ms', 'client_cpu_s', 'errors', 'converged'];
const show = (v) => (v === undefined || v === null ? '-' : String(v));
const ratio = (x, y) => (typeof x === 'number' && typeof y === 'number' && x > 0 ? (y / x).toFixed(2) + '×' : '-');
console.log(`\n== ${title}`);
console.log('figure'.padEnd(18) + 'sharedb'.padStart(12) + 'quire'.padStart(12) + 'quire/sharedb'.padStart(16));
for (const f of figures) {
  console.log(f.padEnd(18) + show(sharedb[f]).padStart(12) + show(quire[f]).padStart(12) +
    (f === 'converged' || f === 'errors' ? '' : ratio(sharedb[f], quire[f])).padStart(16));
}

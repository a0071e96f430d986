// Prints one `quire bench ceiling` line against the same workload's ShareDB and Quire figures.
// Usage: node ceiling.js SHAREDB_JSON QUIRE_JSON CEILING_JSON
const parse = (s) => { try { return JSON.parse(s); } catch { return {}; } };
const [sharedb, quire, ceiling] = process.argv.slice(2).map(parse);
if (typeof ceiling.ops_per_s !== 'number') {
  console.log('ceiling: no figure (see the error above)');
} else {
  const times = (x) => (typeof x === 'number' && x > 0 ? (ceiling.ops_per_s / x).toFixed(2) + '× ShareDB' : '-');
  const share = typeof quire.ops_per_s === 'number' ? `, Quire at ${(100 * quire.ops_per_s / ceiling.ops_per_s).toFixed(0)}% of it` : '';
  console.log(`ceiling (${ceiling.ceiling}, ${ceiling.clients} clients, client work ${ceiling.client_work_ns_per_op} ns per op read): ${ceiling.ops_per_s} ops/s = ${times(sharedb.ops_per_s)}` +
    `${share}; ack p50 ${ceiling.ack_p50_ms} / p99 ${ceiling.ack_p99_ms} ms, ${ceiling.ops_per_commit.toFixed(1)} ops per commit`);
}

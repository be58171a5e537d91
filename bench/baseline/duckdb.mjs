// The DuckDB side of `make bench-baseline`: the same per-host and
// per-hostgroup quantiles of the thresholded peaks that `rampart baseline
// report` computes, over the same history as Parquet. Prints the groups
// written and the wall time.
//   node duckdb.mjs DIR [exact|approx]
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, mode = 'exact'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node duckdb.mjs PARQUET_DIR [exact|approx]');
  process.exit(2);
}
const q = (col) => mode === 'approx'
  ? `approx_quantile(${col}, [0.5, 0.99]) AS ${col}_q, max(${col}) AS ${col}_max`
  : `quantile_cont(${col}, [0.5, 0.99]) AS ${col}_q, max(${col}) AS ${col}_max`;
const cols = ['in_pps_peak', 'in_bps_peak', 'in_syn_pps_peak', 'in_udp_pps_peak'];
const sql = `SELECT hostgroup, ip, count(*) AS n, ${cols.map(q).join(', ')}
  FROM read_parquet('${dir}/*.parquet')
  GROUP BY GROUPING SETS ((hostgroup, ip), (hostgroup))`;
const t0 = performance.now();
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
const reader = await con.runAndReadAll(sql);
const rows = reader.getRows();
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ engine: 'duckdb', mode, groups: rows.length, seconds: secs }));

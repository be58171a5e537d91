// Reads every Parquet file under a snapshot directory with DuckDB (from npm
// @duckdb/node-api, which ships its engine) and prints, as JSON, per ip and
// per Hive partition the row count and sums of a few counters.
// Usage: node sums.cjs NODE_MODULES_DIR SNAPSHOT_DIR
const path = require('node:path');
const [modules, dir] = process.argv.slice(2);
const { DuckDBInstance } = require(path.join(modules, '@duckdb/node-api'));

async function main() {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const src = `read_parquet('${path.join(dir, '**', '*.parquet').replaceAll("'", "''")}', hive_partitioning = true)`;
  const q = async (sql) => (await c.runAndReadAll(sql)).getRowsJson();
  const out = {
    total: await q(`SELECT count(*)::VARCHAR FROM ${src}`),
    perIP: await q(`SELECT hex(ip), count(*)::VARCHAR, sum(in_total_packets)::VARCHAR, sum(out_total_bytes)::VARCHAR,
                           sum(in_syn_packets)::VARCHAR, max(in_pps_peak)::VARCHAR, count(hostgroup)::VARCHAR
                    FROM ${src} GROUP BY 1 ORDER BY 1`),
    perHour: await q(`SELECT dt::VARCHAR, hour::VARCHAR, count(*)::VARCHAR, count(DISTINCT timestamp)::VARCHAR
                      FROM ${src} GROUP BY 1, 2 ORDER BY 1, 2`),
    version: await q(`SELECT version()`),
  };
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });

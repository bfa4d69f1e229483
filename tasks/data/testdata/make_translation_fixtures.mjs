// Writes the parquet fixtures translation_arrow_rs.parquet and translation_duckdb.parquet: a
// Hugging Face style column translation: struct<de: string, en: string> with a null struct and
// null strings, written by two parquet writers independent of parquet-go — arrow-rs (the Rust
// Arrow implementation, through parquet-wasm, from an Apache Arrow JS table) and DuckDB.
// parquet_test.go reads them and checks their schema and definition levels.
//
// In a scratch folder:
//   npm install @duckdb/node-api@1.5.6-r.1 parquet-wasm@0.8.0 apache-arrow@21.2.0
//   node /path/to/make_translation_fixtures.mjs /path/to/tasks/data/testdata
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import fs from 'node:fs';

const out = process.argv[2];
// The rows: both strings, null struct, null de, null en, an empty string.
const de = ['Hallo Welt', null, null, 'nur Deutsch', 'Größe'];
const en = ['Hello world', null, 'only English', null, ''];

const type = new arrow.Struct([
  new arrow.Field('de', new arrow.Utf8(), true),
  new arrow.Field('en', new arrow.Utf8(), true),
]);
const vec = arrow.vectorFromArray(de.map((d, i) => (i === 1 ? null : { de: d, en: en[i] })), type);
const table = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table({ translation: vec }), 'stream'));
const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
fs.writeFileSync(`${out}/translation_arrow_rs.parquet`, pw.writeParquet(table, props));

const lit = (s) => (s === null ? 'NULL' : `'${s}'`);
const rows = de.map((d, i) => (i === 1 ? '(NULL)' : `({'de': ${lit(d)}, 'en': ${lit(en[i])}})`));
const con = await (await DuckDBInstance.create(':memory:')).connect();
await con.run(`COPY (SELECT * FROM (VALUES ${rows.join(', ')}) t(translation))
  TO '${out}/translation_duckdb.parquet' (FORMAT parquet)`);

// Prisma's schema engine (@prisma/prisma-schema-wasm) on a schema file or folder (every .prisma file
// under it): validates it and prints its DMMF models and indexes as JSON, or {"error": ...}.
// Run by tests/test_prisma.py.
const engine = require('@prisma/prisma-schema-wasm');
const fs = require('fs');
const path = require('path');
function files(p) {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p).sort().flatMap(n => files(path.join(p, n))).filter(f => f.endsWith('.prisma'));
}
const schema = files(process.argv[2]).map(f => [f, fs.readFileSync(f, 'utf8')]);
const params = JSON.stringify({prismaSchema: schema, noColor: true});
try {
  engine.validate(params);
} catch (e) {
  console.log(JSON.stringify({error: String(e.message || e)}));
  process.exit(0);
}
const dmmf = JSON.parse(engine.get_dmmf(params));
console.log(JSON.stringify({
  models: dmmf.datamodel.models.map(m => ({
    name: m.name, dbName: m.dbName, schema: m.schema,
    fields: m.fields.map(f => ({name: f.name, dbName: f.dbName || null, kind: f.kind})),
  })),
  indexes: dmmf.datamodel.indexes,
}));

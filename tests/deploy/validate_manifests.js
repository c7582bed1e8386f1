// Validates Kubernetes manifests against the Kubernetes API schemas with the maintained
// `kubernetes-models` package (its classes carry the OpenAPI schemas of the API; validate()
// throws on any field, type or required-field error). Also checks a kustomization's resources
// exist. Usage: node validate_manifests.js DIR  (every *.yaml in DIR; exit 1 on any error).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require(path.join(__dirname, '../clients/node_modules/js-yaml'));
const models = path.join(__dirname, '../clients/node_modules/kubernetes-models');

// apiVersion -> the package's module: "apps/v1" -> apps/v1, "v1" -> v1,
// "rbac.authorization.k8s.io/v1" -> rbac.authorization.k8s.io/v1.
function modelFor(doc) {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  const dir = group ? `${group}/${version}` : version;
  const mod = require(path.join(models, dir));
  if (!mod[doc.kind]) throw new Error(`no model for ${doc.apiVersion} ${doc.kind}`);
  return mod[doc.kind];
}

const dir = process.argv[2];
let errors = 0;
let checked = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const docs = yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')).filter(Boolean);
  for (const doc of docs) {
    const where = `${file}: ${doc.kind} ${doc.metadata ? doc.metadata.name : ''}`;
    try {
      if (doc.kind === 'Kustomization') {
        for (const r of doc.resources || []) {
          if (!fs.existsSync(path.join(dir, r))) throw new Error(`resource ${r} does not exist`);
        }
      } else {
        const Model = modelFor(doc);
        new Model(doc).validate();
      }
      checked += 1;
      console.log(`ok ${where}`);
    } catch (e) {
      errors += 1;
      console.log(`INVALID ${where}: ${e.message}`);
    }
  }
}
console.log(`manifests: ${checked} valid, ${errors} invalid`);
process.exit(errors === 0 && checked > 0 ? 0 : 1);

// The openwhisk npm client against a Petrel region: entity CRUD as a Node.js user writes it.
// Run by NpmClientTest with OW_APIHOST and OW_AUTH; exits non-zero on the first mismatch.
'use strict';
const assert = require('assert');
const openwhisk = require('openwhisk');
const { gone, step } = require('./steps');

const ow = openwhisk({ apihost: process.env.OW_APIHOST, api_key: process.env.OW_AUTH });
const code = 'function main(params) { return { hello: params.name } }';

async function main() {
  for (const r of ['npm-rule']) await gone(ow.rules.delete({ name: r }));
  for (const t of ['npm-trigger']) await gone(ow.triggers.delete({ name: t }));
  for (const a of ['npm-hello', 'npm-pkg/inner']) await gone(ow.actions.delete({ name: a }));
  for (const p of ['npm-binding', 'npm-pkg']) await gone(ow.packages.delete({ name: p }));

  await step('namespaces', async () => {
    assert.deepStrictEqual(await ow.namespaces.list(), ['guest']);
  });

  await step('actions', async () => {
    const created = await ow.actions.create({ name: 'npm-hello', action: code });
    assert.strictEqual(created.name, 'npm-hello');
    assert.strictEqual(created.namespace, 'guest');
    assert.strictEqual(created.version, '0.0.1');
    assert.match(created.exec.kind, /^nodejs:/);
    const read = await ow.actions.get({ name: 'npm-hello' });
    assert.strictEqual(read.exec.code, code);
    const updated = await ow.actions.update({ name: 'npm-hello', action: code, params: { name: 'petrel' } });
    assert.strictEqual(updated.version, '0.0.2');
    assert.deepStrictEqual(updated.parameters, [{ key: 'name', value: 'petrel' }]);
    const list = await ow.actions.list();
    assert.ok(list.some(a => a.name === 'npm-hello'), 'npm-hello is listed');
    await assert.rejects(ow.actions.create({ name: 'npm-hello', action: code }), e => e.statusCode === 409);
    await assert.rejects(ow.actions.get({ name: 'npm-missing' }), e => e.statusCode === 404);
  });

  await step('packages and bindings', async () => {
    const pkg = await ow.packages.create({ name: 'npm-pkg', package: { publish: true, parameters: [{ key: 'p', value: 1 }] } });
    assert.strictEqual(pkg.publish, true);
    await ow.actions.create({ name: 'npm-pkg/inner', action: code });
    const read = await ow.packages.get({ name: 'npm-pkg' });
    assert.deepStrictEqual(read.actions.map(a => a.name), ['inner']);
    const inner = await ow.actions.get({ name: 'npm-pkg/inner' });
    assert.strictEqual(inner.namespace, 'guest/npm-pkg');
    const binding = await ow.packages.create({ name: 'npm-binding', package: { binding: { namespace: 'guest', name: 'npm-pkg' } } });
    assert.deepStrictEqual(binding.binding, { namespace: 'guest', name: 'npm-pkg' });
    const packages = await ow.packages.list();
    assert.ok(packages.some(p => p.name === 'npm-binding') && packages.some(p => p.name === 'npm-pkg'), 'both packages listed');
  });

  await step('triggers and rules', async () => {
    const trigger = await ow.triggers.create({ name: 'npm-trigger', trigger: { parameters: [{ key: 't', value: 'x' }] } });
    assert.strictEqual(trigger.name, 'npm-trigger');
    const rule = await ow.rules.create({ name: 'npm-rule', trigger: 'npm-trigger', action: 'npm-hello' });
    assert.strictEqual(rule.status, 'active');
    await ow.rules.disable({ name: 'npm-rule' });
    assert.strictEqual((await ow.rules.get({ name: 'npm-rule' })).status, 'inactive');
    await ow.rules.enable({ name: 'npm-rule' });
    assert.strictEqual((await ow.rules.get({ name: 'npm-rule' })).status, 'active');
    const withRules = await ow.triggers.get({ name: 'npm-trigger' });
    assert.ok(withRules.rules && withRules.rules['guest/npm-rule'], 'the trigger lists its rule');
    assert.ok((await ow.rules.list()).some(r => r.name === 'npm-rule'), 'npm-rule is listed');
  });

  await step('activations', async () => {
    assert.ok(Array.isArray(await ow.activations.list()), 'activations list is an array');
  });

  await step('deletes', async () => {
    await ow.rules.delete({ name: 'npm-rule' });
    await ow.triggers.delete({ name: 'npm-trigger' });
    const deleted = await ow.actions.delete({ name: 'npm-hello' });
    assert.strictEqual(deleted.name, 'npm-hello');
    await ow.actions.delete({ name: 'npm-pkg/inner' });
    await ow.packages.delete({ name: 'npm-binding' });
    await ow.packages.delete({ name: 'npm-pkg' });
    await assert.rejects(ow.actions.get({ name: 'npm-hello' }), e => e.statusCode === 404);
  });
  console.log('all openwhisk npm client checks passed');
}

main().catch(e => {
  console.error('FAILED:', e && e.stack ? e.stack : e);
  process.exit(1);
});

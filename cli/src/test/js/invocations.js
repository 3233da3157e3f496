// The openwhisk npm client runs actions on a Petrel region as a Node.js user does: a zipped Node.js
// action and a sequence over /whisk.system/utils/echo, both invoked blocking, plus a non-blocking
// invoke whose activation is then fetched. Run by NpmClientTest with OW_APIHOST, OW_AUTH and
// ZIP_PATH (a zip with package.json and index.js); exits non-zero on the first mismatch.
'use strict';
const assert = require('assert');
const fs = require('fs');
const openwhisk = require('openwhisk');
const { gone, step } = require('./steps');

const ow = openwhisk({ apihost: process.env.OW_APIHOST, api_key: process.env.OW_AUTH });

async function main() {
  for (const a of ['npm-seq', 'npm-zipped']) await gone(ow.actions.delete({ name: a }));

  await step('create a zipped action', async () => {
    const created = await ow.actions.create({ name: 'npm-zipped', action: fs.readFileSync(process.env.ZIP_PATH), kind: 'nodejs:default' });
    assert.strictEqual(created.name, 'npm-zipped');
    assert.strictEqual(created.exec.binary, true);
  });

  await step('invoke it blocking (result only)', async () => {
    const result = await ow.actions.invoke({ name: 'npm-zipped', blocking: true, result: true, params: { name: 'npm' } });
    assert.deepStrictEqual(result, { greeting: 'hello npm', from: 'zip' });
  });

  await step('invoke it blocking (whole activation)', async () => {
    const activation = await ow.actions.invoke({ name: 'npm-zipped', blocking: true, params: { name: 'again' } });
    assert.strictEqual(activation.response.success, true);
    assert.deepStrictEqual(activation.response.result, { greeting: 'hello again', from: 'zip' });
    assert.match(activation.activationId, /^[0-9a-f]{32}$/);
    const path = activation.annotations.find(a => a.key === 'path');
    assert.strictEqual(path.value, 'guest/npm-zipped');
  });

  await step('create a sequence over /whisk.system/utils/echo', async () => {
    const created = await ow.actions.create({
      name: 'npm-seq',
      action: { exec: { kind: 'sequence', components: ['/whisk.system/utils/echo', '/guest/npm-zipped'] } },
    });
    assert.strictEqual(created.exec.kind, 'sequence');
  });

  await step('invoke the sequence blocking', async () => {
    const activation = await ow.actions.invoke({ name: 'npm-seq', blocking: true, params: { name: 'sequence' } });
    assert.strictEqual(activation.response.success, true, JSON.stringify(activation));
    assert.deepStrictEqual(activation.response.result, { greeting: 'hello sequence', from: 'zip' });
    assert.strictEqual(activation.logs.length, 0, 'a blocking answer carries no logs');
    const kind = activation.annotations.find(a => a.key === 'kind');
    assert.strictEqual(kind.value, 'sequence');
  });

  await step('invoke non-blocking and read the activation', async () => {
    const accepted = await ow.actions.invoke({ name: 'npm-zipped', params: { name: 'later' } });
    assert.match(accepted.activationId, /^[0-9a-f]{32}$/);
    let activation;
    for (let i = 0; i < 100 && !activation; i++) {
      try {
        activation = await ow.activations.get({ name: accepted.activationId });
      } catch (e) {
        if (e.statusCode !== 404) throw e;
        await new Promise(r => setTimeout(r, 100));
      }
    }
    assert.ok(activation, 'the activation record was written');
    assert.deepStrictEqual(activation.response.result, { greeting: 'hello later', from: 'zip' });
    assert.ok(activation.logs.some(l => l.includes('stdout: greeting later')), JSON.stringify(activation.logs));
  });

  for (const a of ['npm-seq', 'npm-zipped']) await ow.actions.delete({ name: a });
  console.log('all openwhisk npm invocation checks passed');
}

main().catch(e => {
  console.error('FAILED', e && e.stack ? e.stack : e, e && e.error ? JSON.stringify(e.error) : '');
  process.exit(1);
});

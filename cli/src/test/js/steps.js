// What the npm client scripts share: a step that prints its time, and a delete that tolerates 404.
'use strict';

async function gone(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.statusCode === 404) return;
    throw e;
  }
}

async function step(name, fn) {
  const started = Date.now();
  await fn();
  console.log(`ok ${name} (${Date.now() - started} ms)`);
}

module.exports = { gone, step };

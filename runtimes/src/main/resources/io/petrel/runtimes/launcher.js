'use strict';
// Petrel's Node.js launcher. The protocol is runtimes/README.md "The action loop": one JSON line per
// message on stdin, answers on fd 3, the action's logs on stdout/stderr. No dependencies, so the
// launcher folder is all a container needs. Nothing here prints on stdout/stderr but the markers:
// those streams belong to the action's logs.

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { pathToFileURL } = require('url');

const MARKER = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';
const ANSWER_FD = 3;
const NOT_A_DICTIONARY = 'The action did not return a dictionary or array.';

// Captured before any action code runs, so an action that patches process.stdout.write cannot
// swallow the markers the container waits for.
const writeStdout = process.stdout.write.bind(process.stdout);
const writeStderr = process.stderr.write.bind(process.stderr);

// Used only to sleep synchronously when fd 3 is a non-blocking pipe that is momentarily full.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

class InitError extends Error {}

let state = 'new'; // new → initializing → ready | failed
let action = null;
let queue = Promise.resolve(); // serializes init and, unless concurrent, runs
const inFlight = new Set(); // concurrent runs not answered yet
const aborts = new Map(); // activation id → settles that run with an uncaught error
let runEnvKeys = [];

function answer(line) {
  const buf = Buffer.from(line + '\n', 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(ANSWER_FD, buf, off, buf.length - off);
    } catch (e) {
      if (e && e.code === 'EAGAIN') {
        Atomics.wait(sleepCell, 0, 0, 1);
        continue;
      }
      // The container closed the answer channel: nobody is listening any more.
      process.exit(1);
    }
  }
}

function errorLine(id, message) {
  return id === undefined
    ? JSON.stringify({ error: message })
    : '{"id":' + JSON.stringify(id) + ',"error":' + JSON.stringify(message) + '}';
}

function describe(e) {
  try {
    if (e instanceof Error) return String(e);
    if (e !== null && typeof e === 'object') {
      const json = JSON.stringify(e);
      if (typeof json === 'string') return json;
    }
    return String(e);
  } catch (ignored) {
    return Object.prototype.toString.call(e);
  }
}

function markers() {
  writeStdout(MARKER);
  writeStderr(MARKER);
}

function concurrent() {
  return process.env.__OW_ALLOW_CONCURRENT === 'true';
}

function asEnvValue(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// Makes a top-level `function main` (or const) reachable as module.exports.main, without
// throwing when no such name exists. Only for names that compile as an identifier reference in
// strict code, so a reserved word cannot turn the action into a syntax error.
function exportMainSuffix(main) {
  if (!/^[A-Za-z_$][\w$]*$/.test(main)) return '';
  try {
    new Function('"use strict"; return typeof ' + main + ';');
  } catch (ignored) {
    return '';
  }
  const key = JSON.stringify(main);
  return '\n;try { if (typeof ' + main + " === 'function' && typeof module.exports[" + key +
    "] !== 'function') module.exports[" + key + '] = ' + main + '; } catch (__petrel_ignored) {}\n';
}

async function requireOrImport(file) {
  try {
    return require(file);
  } catch (e) {
    // An ES module archive ("type": "module" or .mjs) cannot be required by Node 20.
    if (e && e.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(require.resolve(file)).href);
    throw e;
  }
}

function pickMain(exports, main) {
  for (const candidate of [exports, exports && exports.default]) {
    if (candidate === null || candidate === undefined) continue;
    if (typeof candidate[main] === 'function') return candidate[main];
    if (main === 'main' && typeof candidate === 'function') return candidate;
  }
  return null;
}

async function load(init) {
  const main = typeof init.main === 'string' && init.main.trim() ? init.main.trim() : 'main';
  if (init.env && typeof init.env === 'object') {
    for (const [k, v] of Object.entries(init.env)) {
      if (v !== null && v !== undefined) process.env[k] = asEnvValue(v);
    }
  }
  let exports;
  if (typeof init.code === 'string' && init.code.length > 0) {
    // .cjs, so that a package.json with "type": "module" above the work dir cannot make it ESM.
    const file = path.resolve('action.cjs');
    fs.writeFileSync(file, init.code + exportMainSuffix(main));
    exports = require(file);
  } else if (typeof init.path === 'string' && init.path.length > 0) {
    exports = await requireOrImport(path.resolve(init.path));
  } else {
    throw new InitError('Missing main/no code to execute.');
  }
  const fn = pickMain(exports, main);
  if (fn === null) throw new InitError('The action has no function named "' + main + '".');
  return fn;
}

async function init(message) {
  if (state !== 'new') {
    answer(JSON.stringify({ error: 'Cannot initialize the action more than once.' }));
    return;
  }
  state = 'initializing';
  try {
    action = await load(message !== null && typeof message === 'object' ? message : {});
    state = 'ready';
    answer('{"ok":true}');
  } catch (e) {
    state = 'failed';
    const message = e instanceof InitError ? e.message : 'Initialization has failed due to: ' + describe(e);
    answer(JSON.stringify({ error: message }));
  }
}

function resultLine(id, result) {
  if (result === null || typeof result !== 'object') return errorLine(id, NOT_A_DICTIONARY);
  let json;
  try {
    json = JSON.stringify(result);
  } catch (e) {
    return errorLine(id, 'An error has occurred: ' + describe(e));
  }
  // A toJSON may turn an object into a string or a number.
  if (typeof json !== 'string' || (json[0] !== '{' && json[0] !== '[')) return errorLine(id, NOT_A_DICTIONARY);
  return '{"id":' + JSON.stringify(id) + ',"result":' + json + '}';
}

// A rejection with an Error is an error; anything else is what the action chose to answer.
function rejectionResult(reason) {
  if (reason instanceof Error) return undefined;
  if (reason !== null && typeof reason === 'object' && !Array.isArray(reason) && 'error' in reason) return reason;
  return { error: reason === undefined ? {} : reason };
}

async function invoke(id, value) {
  const result = action(value);
  if (result === null || (typeof result !== 'object' && typeof result !== 'function') || typeof result.then !== 'function') {
    return { ok: result };
  }
  let abort;
  const aborted = new Promise((resolve) => { abort = resolve; });
  aborts.set(id, abort);
  try {
    return await Promise.race([
      Promise.resolve(result).then((ok) => ({ ok }), (rejected) => ({ rejected })),
      aborted,
    ]);
  } finally {
    aborts.delete(id);
  }
}

async function run(message, isConcurrent) {
  const id = typeof message.activation_id === 'string' ? message.activation_id
    : message.activation_id === undefined || message.activation_id === null ? null : String(message.activation_id);
  let line;
  if (state !== 'ready') {
    line = errorLine(id, state === 'failed' ? 'The action failed to initialize.' : 'The action was not initialized.');
  } else {
    if (!isConcurrent) {
      for (const k of runEnvKeys) delete process.env[k];
      runEnvKeys = [];
    }
    for (const [k, v] of Object.entries(message)) {
      if (k === 'value' || v === null || v === undefined) continue;
      const name = '__OW_' + k.toUpperCase();
      process.env[name] = asEnvValue(v);
      if (!isConcurrent) runEnvKeys.push(name);
    }
    try {
      const outcome = await invoke(id, message.value === undefined ? {} : message.value);
      if ('ok' in outcome) {
        line = resultLine(id, outcome.ok);
      } else if ('rejected' in outcome) {
        const result = rejectionResult(outcome.rejected);
        line = result === undefined ? errorLine(id, 'An error has occurred: ' + describe(outcome.rejected)) : resultLine(id, result);
      } else {
        line = errorLine(id, 'An error has occurred: ' + describe(outcome.uncaught));
      }
    } catch (e) {
      line = errorLine(id, 'An error has occurred: ' + describe(e));
    }
  }
  answer(line);
  if (!isConcurrent) markers();
}

// An exception thrown from a callback of the action (a timer, an event) would kill the process.
// When it can only belong to one activation, that activation fails with it; otherwise it is
// dropped, so that one bad callback does not take the other activations down.
process.on('uncaughtException', (e) => {
  if (aborts.size === 1) aborts.values().next().value({ uncaught: e });
});
// A promise the action dropped and that rejected: not the answer of any activation.
process.on('unhandledRejection', () => {});

function onLine(line) {
  if (line.trim() === '') return;
  let message;
  try {
    message = JSON.parse(line);
  } catch (e) {
    answer(JSON.stringify({ error: 'Malformed message: ' + e.message }));
    return;
  }
  if (message !== null && typeof message === 'object' && 'init' in message) {
    queue = queue.then(() => init(message.init));
  } else if (message !== null && typeof message === 'object' && message.run !== null && typeof message.run === 'object') {
    if (concurrent()) {
      // Waits for the init (and whatever was queued before) but not for other runs.
      const p = queue.then(() => run(message.run, true));
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    } else {
      queue = queue.then(() => run(message.run, false));
    }
  } else {
    answer(JSON.stringify({ error: 'Malformed message: neither init nor run.' }));
  }
}

// fd 3 must be the container's pipe, FIFO or socket (or /dev/null). Without one, fd 3 is some file
// or descriptor of the process itself, and writing answers into it would corrupt it.
function answerChannelOk() {
  try {
    const stats = fs.fstatSync(ANSWER_FD);
    return stats.isFIFO() || stats.isSocket() || stats.isCharacterDevice();
  } catch (ignored) {
    return false;
  }
}
if (!answerChannelOk()) process.exit(2);

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
input.on('line', onLine);
input.on('close', () => {
  // Answer what was already asked, then leave even if the action left timers behind.
  Promise.allSettled([queue, ...inFlight]).then(() => process.exit(0));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAMELS_CV, CosmologyError, loadCosmology, makeCosmology, omegaLambda } from '../../src/cosmo/params.js';

test('CAMELS CV defaults', () => {
  assert.equal(CAMELS_CV.Omega_m, 0.3);
  assert.equal(CAMELS_CV.Omega_b, 0.049);
  assert.equal(CAMELS_CV.h, 0.6711);
  assert.equal(CAMELS_CV.n_s, 0.9624);
  assert.equal(CAMELS_CV.sigma8, 0.8);
  assert.equal(CAMELS_CV.T_cmb, 2.7255);
  assert.equal(CAMELS_CV.Omega_r, 0);
  assert.ok(Math.abs(omegaLambda(CAMELS_CV) - 0.7) < 1e-15);
});

test('loadCosmology reads a file and fills defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cosmo-'));
  const f = join(dir, 'c.json');
  writeFileSync(f, JSON.stringify({ Omega_m: 0.31, Omega_b: 0.048, h: 0.68, n_s: 0.97, sigma8: 0.81, Omega_r: 9e-5 }));
  const c = loadCosmology(f);
  assert.equal(c.Omega_m, 0.31);
  assert.equal(c.T_cmb, 2.7255);
  assert.equal(c.Omega_r, 9e-5);
});

test('loadCosmology errors name the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cosmo-'));
  const cases: [string, RegExp][] = [
    [JSON.stringify({ Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 }), /missing field "Omega_m"/],
    [JSON.stringify({ Omega_m: '0.3', Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 }), /"Omega_m" must be a finite number/],
    [JSON.stringify({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8, Omega_k: 0 }), /unknown field "Omega_k"/],
    [JSON.stringify({ Omega_m: 0.3, Omega_b: 0.4, h: 0.7, n_s: 0.96, sigma8: 0.8 }), /"Omega_b" must be in/],
    [JSON.stringify({ Omega_m: 0.3, Omega_b: 0.05, h: -1, n_s: 0.96, sigma8: 0.8 }), /"h" must be in/],
    ['{ not json', /invalid JSON/],
    ['[1,2]', /expected a JSON object/],
  ];
  cases.forEach(([text, re], i) => {
    const f = join(dir, `bad${i}.json`);
    writeFileSync(f, text);
    assert.throws(() => loadCosmology(f), (err: unknown) => err instanceof CosmologyError && re.test(err.message) && err.message.includes(f));
  });
  assert.throws(() => loadCosmology(join(dir, 'missing.json')), /cannot read cosmology file/);
});

test('makeCosmology returns a frozen object', () => {
  const c = makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 });
  assert.ok(Object.isFrozen(c));
});

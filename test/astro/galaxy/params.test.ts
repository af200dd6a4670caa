import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../reference-dir.js';
import {
  ASTRO_DEFAULTS,
  ASTRO_FIELDS,
  ASTRO_FLAGS,
  ASTRO_FLAG_KEYS,
  ASTRO_NUMBER_KEYS,
  ASTRO_PAPER_TABLE1,
  AstroParamsError,
  astroParamsToJSON,
  makeAstroParams,
} from '../../../src/astro/params.js';

// The public 21cmFAST code's defaults, read from src/py21cmfast/wrapper/inputs.py (AstroParams,
// AstroOptions, SimulationOptions.CORR_*) and src/scaling_relations.c (the fixed FMR / L_X coefficients).
const CODE: Record<string, number | boolean> = {
  F_STAR10: -1.3,
  ALPHA_STAR: 0.5,
  SIGMA_STAR: 0.25,
  UPPER_STELLAR_TURNOVER_MASS: 11.447,
  UPPER_STELLAR_TURNOVER_INDEX: -0.6,
  M_TURN: 8.7,
  t_STAR: 0.5,
  SIGMA_SFR_LIM: 0.19,
  SIGMA_SFR_INDEX: -0.12,
  L_X: 40.5,
  SIGMA_LX: 0.5,
  NU_X_THRESH: 500,
  NU_X_BAND_MAX: 2000,
  X_RAY_SPEC_INDEX: 1,
  F_ESC10: -1,
  ALPHA_ESC: -0.5,
  POP2_ION: 5000,
  POP3_ION: 44021,
  F_ESC7_MINI: -2,
  CORR_STAR: 0.5,
  CORR_SFR: 0.2,
  CORR_LX: 0.2,
  FMR_NORM: 1.23,
  FMR_LOG10_M0: Math.log10(1.28825e10),
  FMR_SFR_INDEX: 0.56,
  FMR_MASS_INDEX: -2.1,
  FMR_POWER: -0.148,
  FMR_Z_SLOPE: -0.056,
  FMR_Z_OFFSET: 0.064,
  LX_Z_PIVOT: 0.05,
  LX_Z_INDEX: 0.64,
  K_UV: 1.15e-28,
  USE_UPPER_STELLAR_TURNOVER: true,
  HALO_SCALING_RELATIONS_MEDIAN: false,
  USE_MINI_HALOS: false,
};

test('defaults are the 21cmFAST code defaults, with its derived minihalo fields', () => {
  for (const [k, v] of Object.entries(CODE)) {
    const got = (ASTRO_DEFAULTS as unknown as Record<string, number | boolean>)[k];
    if (typeof v === 'number')
      assert.ok(Math.abs((got as number) - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${k}: ${got} vs ${v}`);
    else assert.equal(got, v, k);
  }
  // inputs.py: F_STAR7_MINI = F_STAR10 - 3 ALPHA_STAR, ALPHA_STAR_MINI = ALPHA_STAR, L_X_MINI = L_X.
  assert.equal(ASTRO_DEFAULTS.F_STAR7_MINI, -1.3 - 1.5);
  assert.equal(ASTRO_DEFAULTS.ALPHA_STAR_MINI, 0.5);
  assert.equal(ASTRO_DEFAULTS.L_X_MINI, 40.5);
  // scaling_relations.c switches the L_X metallicity dependence with USE_UPPER_STELLAR_TURNOVER.
  assert.equal(ASTRO_DEFAULTS.USE_LX_METALLICITY, true);
  assert.equal(makeAstroParams({ USE_UPPER_STELLAR_TURNOVER: false }).USE_LX_METALLICITY, false);
  assert.equal(
    makeAstroParams({ USE_UPPER_STELLAR_TURNOVER: false, USE_LX_METALLICITY: true }).USE_LX_METALLICITY,
    true,
  );
  assert.ok(Object.isFrozen(ASTRO_DEFAULTS));
  assert.deepEqual(Object.keys(ASTRO_DEFAULTS), [...ASTRO_NUMBER_KEYS, ...ASTRO_FLAG_KEYS]);
});

test('Table 1 values of Davies et al. (2025) are exposed next to the code defaults', () => {
  const t = ASTRO_PAPER_TABLE1;
  assert.ok(Math.abs(10 ** t.F_STAR10 - 0.05) < 1e-12);
  assert.equal(t.ALPHA_STAR, 0.5);
  assert.equal(t.UPPER_STELLAR_TURNOVER_INDEX, -0.61);
  assert.ok(Math.abs(10 ** t.UPPER_STELLAR_TURNOVER_MASS / 2.8e11 - 1) < 1e-12);
  assert.equal(t.SIGMA_STAR, 0.3);
  assert.equal(t.CORR_STAR, 0.5);
  assert.equal(t.t_STAR, 0.5);
  assert.equal(t.SIGMA_SFR_LIM, 0.19);
  assert.equal(t.SIGMA_SFR_INDEX, -0.12);
  assert.equal(t.CORR_SFR, 0.1);
  assert.equal(t.NU_X_THRESH, 500);
  assert.equal(t.X_RAY_SPEC_INDEX, 1);
  assert.equal(t.L_X, 40.5);
  assert.equal(t.SIGMA_LX, 0.5);
  assert.equal(t.CORR_LX, 0.5);
  assert.ok(Math.abs(10 ** t.F_ESC10 - 0.1) < 1e-12);
  assert.equal(t.ALPHA_ESC, -0.5);
  assert.equal(t.POP2_ION, 5000);
  // Where the table lists nothing, the code's value stands.
  assert.equal(t.M_TURN, 8.7);
  // Every field that differs between the two is one the spec marks as different.
  const differing = ASTRO_FIELDS.filter(
    (s) => s.paper !== null && s.code !== null && Math.abs(s.paper - s.code) > 1e-3,
  ).map((s) => s.key);
  // F_STAR10: the code's -1.3 is f_*,10 = 0.0501, the table's 0.05 is -1.30103.
  assert.deepEqual(
    differing.sort(),
    ['CORR_LX', 'CORR_SFR', 'F_STAR10', 'SIGMA_STAR', 'UPPER_STELLAR_TURNOVER_INDEX'].sort(),
  );
});

test('bad values give one-line errors naming the field, the expected range and the value', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ F_STAR10: 0.5 }, /^run\.json: field "F_STAR10" must be a finite number in \[-3, 0\] \(log10\), got 0\.5$/],
    [{ SIGMA_STAR: -0.1 }, /field "SIGMA_STAR" must be a finite number in \[0, 2\] \(dex\), got -0\.1/],
    [{ t_STAR: 0 }, /field "t_STAR" must be a finite number in \(0, 1\]/],
    [{ ALPHA_STAR: Number.NaN }, /field "ALPHA_STAR" must be a finite number .* got NaN/],
    [{ L_X: Number.POSITIVE_INFINITY }, /field "L_X" must be a finite number in \[30, 50\]/],
    [{ M_TURN: '8.7' }, /field "M_TURN" must be a finite number .* got "8\.7"/],
    [{ CORR_SFR: -1 }, /field "CORR_SFR" must be a finite number in \[0, 1000\]/],
    [{ NU_X_THRESH: 50 }, /field "NU_X_THRESH" must be a finite number in \[100, 10000\)/],
    [{ NU_X_THRESH: 2500 }, /field "NU_X_THRESH" must be below NU_X_BAND_MAX = 2000 eV, got 2500/],
    [{ USE_MINI_HALOS: 1 }, /field "USE_MINI_HALOS" must be true or false, got 1/],
    [{ F_STAR_10: -1 }, /unknown field "F_STAR_10"/],
    [
      { USE_MINI_HALOS: true, F_STAR10: -0.2, ALPHA_STAR: -0.5 },
      /field "F_STAR7_MINI" \(derived, not set\) must be in \[-5, 0\]/,
    ],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => makeAstroParams(input, 'run.json'),
      (err: unknown) => {
        assert.ok(err instanceof AstroParamsError);
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'), 'one line');
        assert.ok(err.message.startsWith('run.json: '), 'names the source');
        return true;
      },
    );
  }
  assert.throws(() => makeAstroParams([] as unknown as Record<string, unknown>, 'x'), /x: expected an object/);
  // The derived minihalo field is not checked when minihalos are off: the model does not use it.
  assert.equal(makeAstroParams({ F_STAR10: -0.2, ALPHA_STAR: -0.5 }).F_STAR7_MINI, -0.2 + 1.5);
});

test('range bounds are inclusive or exclusive as documented', () => {
  assert.equal(makeAstroParams({ F_STAR10: 0 }).F_STAR10, 0);
  assert.equal(makeAstroParams({ F_STAR10: -3 }).F_STAR10, -3);
  assert.equal(makeAstroParams({ t_STAR: 1 }).t_STAR, 1);
  assert.throws(() => makeAstroParams({ F_STAR10: -3.0001 }), /F_STAR10/);
  assert.throws(() => makeAstroParams({ FMR_MASS_INDEX: 0 }), /FMR_MASS_INDEX/);
});

test('a base parameter set: overrides keep the base, derived fields follow their parents unless set', () => {
  const p = makeAstroParams({ SIGMA_LX: 0.3 }, 'x', ASTRO_PAPER_TABLE1);
  assert.equal(p.SIGMA_STAR, 0.3);
  assert.equal(p.SIGMA_LX, 0.3);
  const q = makeAstroParams({ F_STAR10: -1, ALPHA_STAR: 0.2 }, 'x', ASTRO_DEFAULTS);
  assert.ok(Math.abs(q.F_STAR7_MINI - (-1 - 0.6)) < 1e-12);
  const r = makeAstroParams({ F_STAR7_MINI: -3 }, 'x');
  const s = makeAstroParams({ F_STAR10: -1 }, 'x', r);
  assert.equal(s.F_STAR7_MINI, -3, 'an explicit derived field survives re-basing');
  const t = makeAstroParams({ USE_UPPER_STELLAR_TURNOVER: false }, 'x', ASTRO_DEFAULTS);
  assert.equal(t.USE_LX_METALLICITY, false, 'the L_X switch follows the upper-turnover switch unless set');
});

test('astroParamsToJSON round-trips through JSON and makeAstroParams', () => {
  const p = makeAstroParams({ F_STAR10: -1.1, HALO_SCALING_RELATIONS_MEDIAN: true, USE_MINI_HALOS: true }, 'x');
  const json = JSON.parse(JSON.stringify(astroParamsToJSON(p))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), [...ASTRO_NUMBER_KEYS, ...ASTRO_FLAG_KEYS]);
  const back = makeAstroParams(json, 'saved.json');
  assert.deepEqual(astroParamsToJSON(back), astroParamsToJSON(p));
  assert.equal(back.HALO_SCALING_RELATIONS_MEDIAN, true);
});

test('docs/astro-galaxies.md lists every field with its code and paper defaults, and every switch', () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'astro-galaxies.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Za-z_0-9]+)` \|/.exec(line);
    if (m)
      rows.set(
        m[1]!,
        line.split('|').map((c) => c.trim()),
      );
  }
  for (const s of ASTRO_FIELDS) {
    const cells = rows.get(s.key);
    assert.ok(cells, `${s.key} has a row`);
    // cells: '', field, symbol, unit, code, paper, range, Eq., meaning
    assert.equal(cells[3], s.unit, `${s.key} unit`);
    if (s.code !== null) assert.ok(cells[4]!.startsWith(String(s.code)), `${s.key} code default: ${cells[4]}`);
    if (s.paper !== null)
      assert.ok(cells[5]!.startsWith(String(+s.paper.toPrecision(6))), `${s.key} paper value: ${cells[5]}`);
    else assert.equal(cells[5], '—', `${s.key}: no Table 1 value`);
  }
  for (const f of ASTRO_FLAGS) {
    const cells = rows.get(f.key);
    assert.ok(cells, `${f.key} has a row`);
    if (f.code !== null) assert.equal(cells[2], String(f.code), `${f.key} default`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { powerSpectrum, crossPowerSpectrum, powerSpectrum2D, dimensionless } from '../../src/field/power.js';
import { masCorrection } from '../../src/field/kgrid.js';
import { paint } from '../../src/field/mas.js';
import { overdensity } from '../../src/field/ops.js';
import { randomNormal, randomPositions } from './helpers.js';

const idx = (n: number, x: number, y: number, z: number): number => (x * n + y) * n + z;

function cosineField(n: number, A: number, m: [number, number, number]): Float32Array {
  const f = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) {
    f[idx(n, x, y, z)] = A * Math.cos((2 * Math.PI * (m[0] * x + m[1] * y + m[2] * z)) / n);
  }
  return f;
}

test('a single Fourier mode A cos(k·x) puts L^3 A^2 / 4 (summed over the bin) in its bin and ~0 elsewhere', () => {
  const n = 16, L = 50, A = 1.7;
  for (const m of [[2, 1, 0], [1, 2, 3], [0, 0, 5]] as [number, number, number][]) {
    const pk = powerSpectrum(cosineField(n, A, m), n, { boxSize: L });
    const bin = Math.floor(Math.hypot(...m));
    const i = pk.k.findIndex((_, j) => j === bin - 1);
    const expectSum = (L ** 3 * A * A) / 4;
    assert.ok(Math.abs((pk.pk[i]! * pk.nmodes[i]!) / expectSum - 1) < 1e-5, `mode ${m}: ${pk.pk[i]! * pk.nmodes[i]!} vs ${expectSum}`);
    for (let j = 0; j < pk.pk.length; j++) if (j !== i) assert.ok(Math.abs(pk.pk[j]!) < 1e-9 * expectSum, `bin ${j} leaks ${pk.pk[j]}`);
  }
});

test('white noise has P = L^3/N^3 σ^2 with MAS none (within the expected scatter)', () => {
  const n = 64, L = 100;
  const f = randomNormal(n ** 3, 7);
  const pk = powerSpectrum(f, n, { boxSize: L, mas: 'none' });
  const p0 = L ** 3 / n ** 3;
  let s = 0, m = 0;
  for (let i = 0; i < pk.pk.length; i++) {
    s += pk.pk[i]! * pk.nmodes[i]!;
    m += pk.nmodes[i]!;
    // each bin: mean of Nm exponential variables → relative std 1/sqrt(Nm); allow 5σ
    assert.ok(Math.abs(pk.pk[i]! / p0 - 1) < 5 / Math.sqrt(pk.nmodes[i]!), `bin ${i}: ${pk.pk[i]! / p0}`);
  }
  assert.ok(Math.abs(s / m / p0 - 1) < 5 / Math.sqrt(m), `mode average ${s / m / p0}`);
  // Pylians mode count: N^3/2 - 1 independent non-DC modes for even N... plus the self-conjugate ones
  assert.equal(m, (n ** 3 - 8) / 2 + 7);
});

test('CIC-painted Poisson particles: shot noise L^3/N_p after CIC deconvolution at low k', () => {
  // For uniform random particles the CIC-deconvolved spectrum is (L^3/Np) C(k)/W^2(k), with
  // C = Π(1 − 2/3 sin^2 x_i) (aliased window sum) and W^2 = Π sinc^4 x_i; for n_i <= N/8 the two agree
  // to < 0.2%, so the check is dominated by the scatter 1/sqrt(Nmodes) (4σ allowed).
  const n = 64, L = 100, np = 1_000_000;
  const rho = paint(randomPositions(np, L, 21), { grid: n, boxSize: L, mas: 'CIC' });
  const pk = powerSpectrum(overdensity(rho), n, { boxSize: L, mas: 'CIC' });
  const shot = L ** 3 / np;
  let s = 0, m = 0;
  for (let i = 0; i < pk.k.length; i++) {
    if (pk.k[i]! > ((2 * Math.PI) / L) * (n / 8)) break;
    s += pk.pk[i]! * pk.nmodes[i]!;
    m += pk.nmodes[i]!;
  }
  const ratio = s / m / shot;
  assert.ok(Math.abs(ratio - 1) < 4 / Math.sqrt(m) + 0.002, `low-k shot noise ratio ${ratio} over ${m} modes`);
  // Without deconvolution the same spectrum is visibly suppressed near Nyquist.
  const raw = powerSpectrum(overdensity(rho), n, { boxSize: L, mas: 'none' });
  assert.ok(raw.pk[raw.pk.length - 10]! < 0.6 * shot);
});

test('r(k) = 1 for a field with itself; cross of independent fields ~ 0', () => {
  const n = 32, L = 25;
  const a = randomNormal(n ** 3, 1);
  const x = crossPowerSpectrum(a, a, n, { boxSize: L, mas: 'CIC' });
  for (let i = 0; i < x.r.length; i++) {
    assert.ok(Math.abs(x.r[i]! - 1) < 1e-12);
    assert.ok(Math.abs(x.p11[i]! - x.p12[i]!) <= 1e-12 * x.p11[i]!);
  }
  const auto = powerSpectrum(a, n, { boxSize: L, mas: 'CIC' });
  for (let i = 0; i < auto.pk.length; i++) assert.equal(auto.pk[i], x.p11[i]);
  const b = randomNormal(n ** 3, 2);
  const y = crossPowerSpectrum(a, b, n, { boxSize: L });
  const mean = y.r.reduce((s, v, i) => s + v * y.nmodes[i]!, 0) / y.nmodes.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(mean) < 0.03);
});

/** Plain float64 direct DFT reference: every pair {k, −k} counted once, CIC-deconvolved. */
function referencePk(f: Float32Array, n: number, L: number, p: number) {
  const re = new Float64Array(n ** 3), im = new Float64Array(n ** 3);
  const tw = (t: number) => (2 * Math.PI * t) / n;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let c = 0; c < n; c++) {
    let sr = 0, si = 0;
    for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) {
      const ph = -tw(a * x + b * y + c * z);
      const v = f[idx(n, x, y, z)]!;
      sr += v * Math.cos(ph);
      si += v * Math.sin(ph);
    }
    re[idx(n, a, b, c)] = sr;
    im[idx(n, a, b, c)] = si;
  }
  const signed = (i: number) => (i > n / 2 ? i - n : i);
  const kmax = Math.floor(Math.sqrt(3) * (n / 2));
  const ks = new Float64Array(kmax + 1), ps = new Float64Array(kmax + 1), nm = new Float64Array(kmax + 1);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let c = 0; c < n; c++) {
    const conj = [(n - a) % n, (n - b) % n, (n - c) % n];
    const key = a * n * n + b * n + c, ckey = conj[0]! * n * n + conj[1]! * n + conj[2]!;
    if (key > ckey) continue; // the pair is counted at its smaller index
    const kv = [signed(a), signed(b), signed(c)];
    const k = Math.hypot(...kv);
    const bin = Math.floor(k + 1e-12);
    let w = 1;
    for (const ki of kv) if (ki !== 0) w *= ((Math.PI * ki) / n / Math.sin((Math.PI * ki) / n)) ** p;
    const i = idx(n, a, b, c);
    ps[bin]! += (re[i]! ** 2 + im[i]! ** 2) * w * w;
    ks[bin]! += k;
    nm[bin]! += 1;
  }
  const kF = (2 * Math.PI) / L;
  return { k: Array.from(ks.slice(1), (v, i) => (v / nm[i + 1]!) * kF), pk: Array.from(ps.slice(1), (v, i) => ((v / nm[i + 1]!) * L ** 3) / n ** 6), nm: Array.from(nm.slice(1)) };
}

test('P(k) agrees with a float64 direct-DFT reference on 8^3 to 1e-5 (k, P, Nmodes; MAS none and CIC)', () => {
  const n = 8, L = 25;
  const f = randomNormal(n ** 3, 99);
  for (const [mas, p] of [['none', 0], ['CIC', 2]] as const) {
    const ours = powerSpectrum(f, n, { boxSize: L, mas });
    const ref = referencePk(f, n, L, p);
    assert.equal(ours.k.length, ref.k.length);
    for (let i = 0; i < ref.k.length; i++) {
      assert.equal(ours.nmodes[i], ref.nm[i]);
      assert.ok(Math.abs(ours.k[i]! / ref.k[i]! - 1) < 1e-12);
      assert.ok(Math.abs(ours.pk[i]! / ref.pk[i]! - 1) < 1e-5, `${mas} bin ${i + 1}: ${ours.pk[i]} vs ${ref.pk[i]}`);
    }
  }
});

test('MAS correction factors and Δ²', () => {
  const c = masCorrection(8, 'CIC');
  assert.equal(c[0], 1);
  assert.ok(Math.abs(c[4]! - (Math.PI / 2) ** 2) < 1e-12); // Nyquist: (π/2 / sin π/2)^2
  assert.equal(c[1], c[7]);
  const d = dimensionless([1, 2], [2 * Math.PI * Math.PI, 1]);
  assert.ok(Math.abs(d[0]! - 1) < 1e-12);
});

test('multipoles: an isotropic field has P_2 ≈ 0; a field varying only along the axis has P_2 = 5 P_0 (μ = 1) or −5/2 P_0 (μ = 0)', () => {
  const n = 32, L = 25;
  const f = randomNormal(n ** 3, 3);
  const pk = powerSpectrum(f, n, { boxSize: L, multipoles: true, axis: 2 });
  let s2 = 0, s0 = 0, m = 0;
  for (let i = 0; i < pk.k.length; i++) {
    s2 += pk.pk2![i]! * pk.nmodes[i]!;
    s0 += pk.pk[i]! * pk.nmodes[i]!;
    m += pk.nmodes[i]!;
  }
  // per mode 5|δ|^2 L_2(μ) has variance 25·2P^2·<L_2^2> = 10 P^2, so s2/s0 scatters by sqrt(10/m); allow 4σ
  assert.ok(Math.abs(s2 / s0) < 4 * Math.sqrt(10 / m), `isotropic quadrupole ${s2 / s0}`);
  // A mode along the line of sight (μ = 1): P_2 = 5 P_0.
  const g = cosineField(n, 1, [0, 0, 3]);
  const q = powerSpectrum(g, n, { boxSize: L, multipoles: true, axis: 2 });
  assert.ok(Math.abs(q.pk2![2]! / q.pk[2]! - 5) < 1e-9);
  const q0 = powerSpectrum(g, n, { boxSize: L, multipoles: true, axis: 0 }); // μ = 0: P_2 = −5/2 P_0
  assert.ok(Math.abs(q0.pk2![2]! / q0.pk[2]! + 2.5) < 1e-9);
});

test('2D P(k_perp, k_par): a mode along the axis lands at k_perp = 0, k_par = 3', () => {
  const n = 16, L = 25;
  const pk2 = powerSpectrum2D(cosineField(n, 1, [0, 0, 3]), n, { boxSize: L, axis: 2 });
  const i = 3 * pk2.nPerp + 0;
  let tot = 0;
  for (let j = 0; j < pk2.pk.length; j++) if (Number.isFinite(pk2.pk[j]!)) tot += pk2.pk[j]! * pk2.nmodes[j]!;
  assert.ok(Math.abs((pk2.pk[i]! * pk2.nmodes[i]!) / tot - 1) < 1e-9);
  assert.ok(Math.abs(pk2.kPar[i]! - (3 * 2 * Math.PI) / L) < 1e-9);
});

test('box/grid mismatch errors', () => {
  assert.throws(() => powerSpectrum(new Float32Array(100), undefined, { boxSize: 25 }), /box\/grid mismatch/);
  assert.throws(() => powerSpectrum(new Float32Array(64), 8, { boxSize: 25 }), /box\/grid mismatch/);
  assert.throws(() => powerSpectrum(new Float32Array(64), 4, { boxSize: 0 }), /boxSize/);
  assert.throws(() => crossPowerSpectrum(new Float32Array(64), new Float32Array(27), 4, { boxSize: 1 }), /box\/grid mismatch/);
  assert.throws(() => powerSpectrum(new Float32Array(64), 4, { boxSize: 1, mas: 'XYZ' as 'CIC' }), /unknown MAS/);
});

test('cross multipoles (Pylians XPk): P12_ℓ obeys the polarisation identity; identical fields give P12_2 = P11_2; a constant field is refused', () => {
  // |δa + δb|² = |δa|² + |δb|² + 2 Re(δa δb*) mode by mode, so with the same Legendre weight
  // P_2[a+b] = P11_2 + P22_2 + 2 P12_2 up to float32 rounding of the summed field.
  const n = 16, L = 40;
  const a = randomNormal(n ** 3, 11);
  const b = randomNormal(n ** 3, 12);
  // make b anisotropic and correlated with a: add a smoothed copy of a along the axis
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) {
    const i = (x * n + y) * n + z;
    b[i] = b[i]! + 0.7 * (a[i]! + a[(x * n + y) * n + ((z + 1) % n)]!);
  }
  const sum = a.map((v, i) => v + b[i]!);
  const opts = { boxSize: L, mas: 'CIC' as const, axis: 2 as const, multipoles: true };
  const x = crossPowerSpectrum(a, b, n, opts);
  const ps = powerSpectrum(sum, n, opts);
  const pa = powerSpectrum(a, n, opts);
  const pb = powerSpectrum(b, n, opts);
  let scale = 0;
  for (let i = 0; i < x.k.length; i++) scale = Math.max(scale, Math.abs(ps.pk2![i]!));
  for (let i = 0; i < x.k.length; i++) {
    assert.equal(x.p11_2![i], pa.pk2![i]);
    assert.equal(x.p22_2![i], pb.pk2![i]);
    const lhs = ps.pk2![i]!;
    const rhs = x.p11_2![i]! + x.p22_2![i]! + 2 * x.p12_2![i]!;
    assert.ok(Math.abs(lhs - rhs) < 1e-5 * scale, `bin ${i}: ${lhs} vs ${rhs}`); // float32 rounding of a + b
  }
  // the z-shift makes the correlation anisotropic: its quadrupole is clearly non-zero at low k
  assert.ok(Math.abs(x.p12_2![0]!) > 0.05 * x.p12[0]!, `P12_2 ${x.p12_2![0]} vs P12 ${x.p12[0]}`);
  const self = crossPowerSpectrum(a, a, n, opts);
  for (let i = 0; i < self.k.length; i++) assert.ok(Math.abs(self.p12_2![i]! - self.p11_2![i]!) <= 1e-12 * Math.abs(self.p11[i]!));
  assert.equal(crossPowerSpectrum(a, b, n, { boxSize: L }).p12_2, undefined);
  assert.throws(() => crossPowerSpectrum(a, new Float32Array(n ** 3), n, { boxSize: L }), /second field has zero power at every k .* r\(k\) .* undefined/);
  assert.throws(() => crossPowerSpectrum(new Float32Array(n ** 3).fill(3), b, n, { boxSize: L }), /first field has zero power/);
});

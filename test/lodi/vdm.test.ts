import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, noGrad, tidy, type Tensor } from '@lodi/torch';
import { lodiPreset } from '../../src/lodi/config.js';
import { LodiModel, antitheticSteps } from '../../src/lodi/vdm.js';
import { alphaAt, sigmaAt } from '../../src/lodi/schedule.js';

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

test('the three loss terms equal a direct float64 evaluation of the VDM formulas', () => {
  const cfg = lodiPreset('tiny');
  const m = new LodiModel(cfg, new Generator(1));
  // move the schedule off its initial values so the check covers general b, w
  noGrad(() => {
    m.gamma.b.fill_(-9.5);
    m.gamma.w.fill_(-17); // slope enters as |w|
  });
  const gen = new Generator(4);
  const B = 3;
  const n = 4;
  const D = n ** 3;
  tidy(() => {
    const x = F.randn([B, 1, n, n, n], gen).mul(1.3).add(0.2);
    const cond = F.zeros([B, 4, n, n, n]);
    const noise = m.drawNoise(x, gen);
    const stub = (z: Tensor): Tensor => z.mul(0.5).add(0.1);
    const terms = m.loss(x, cond, noise, stub);
    const xs = x.toFloat32Array();
    const eps = noise.eps.toFloat32Array();
    const eps0 = noise.eps0.toFloat32Array();
    const T = cfg.schedule.steps;
    const gamma = (t: number): number => -9.5 + 17 * t;
    const steps = antitheticSteps(noise.u0, B, T);
    let diff = 0;
    let prior = 0;
    let recon = 0;
    for (let b = 0; b < B; b++) {
      const gt = gamma(steps[b]! / T);
      const gs = gamma((steps[b]! - 1) / T);
      const at = Math.sqrt(sig(-gt));
      const st = Math.sqrt(sig(gt));
      let sq = 0;
      let x2 = 0;
      let r = 0;
      const g0 = gamma(0);
      const a0 = Math.sqrt(sig(-g0));
      const s0 = Math.sqrt(sig(g0));
      for (let v = 0; v < D; v++) {
        const k = b * D + v;
        const z = at * xs[k]! + st * eps[k]!;
        const eh = 0.5 * z + 0.1;
        sq += (eps[k]! - eh) ** 2;
        x2 += xs[k]! ** 2;
        const z0 = a0 * xs[k]! + s0 * eps0[k]!;
        const scale = s0 / a0;
        r += 0.5 * ((xs[k]! - z0 / a0) / scale) ** 2 + Math.log(scale) + 0.5 * Math.log(2 * Math.PI);
      }
      diff += (T / 2) * Math.expm1(gt - gs) * sq;
      const v1 = sig(gamma(1));
      prior += 0.5 * (D * v1 + (1 - v1) * x2 - D * Math.log(v1) - D);
      recon += r;
    }
    const want = { diffusion: diff / B / D, prior: prior / B / D, reconstruction: recon / B / D };
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    assert.ok(rel(terms.diffusion, want.diffusion) < 1e-4, `diffusion ${terms.diffusion} vs ${want.diffusion}`);
    assert.ok(Math.abs(terms.prior - want.prior) < 1e-6, `prior ${terms.prior} vs ${want.prior}`);
    assert.ok(rel(terms.reconstruction, want.reconstruction) < 1e-4, `recon ${terms.reconstruction} vs ${want.reconstruction}`);
    assert.ok(rel(terms.total.item(), want.diffusion + want.prior + want.reconstruction) < 1e-4);
  });
  m.dispose();
});

test('the loss is differentiable in the schedule parameters and the network weights', () => {
  const cfg = lodiPreset('tiny');
  const m = new LodiModel(cfg, new Generator(2));
  m.net.dropoutGen = new Generator(3);
  const gen = new Generator(5);
  tidy(() => {
    const x = F.randn([2, 1, 16, 16, 16], gen);
    const cond = F.randn([2, 4, 16, 16, 16], gen);
    m.loss(x, cond, m.drawNoise(x, gen)).total.backward();
  });
  assert.ok(m.gamma.b.grad && Math.abs(m.gamma.b.grad.item()) > 0);
  assert.ok(m.gamma.w.grad && Math.abs(m.gamma.w.grad.item()) > 0);
  // the zero-initialised output conv receives a gradient on the first step
  assert.ok(m.net.outConv.weight.grad && tidy(() => m.net.outConv.weight.grad!.abs().sum().item()) > 0);
  m.dispose();
});

/** Variance of x̂ after the discrete sampler with the exact ε̂, propagated analytically (float64). */
function analyticVariance(s: number, steps: number): number {
  const g = (t: number): number => -13.3 + 26.6 * t;
  let v = 1;
  for (let i = steps; i >= 1; i--) {
    const gt = g(i / steps);
    const gs = g((i - 1) / steps);
    const at = alphaAt(gt);
    const st = sigmaAt(gt);
    const as = alphaAt(gs);
    const ss = sigmaAt(gs);
    const c = -Math.expm1(gs - gt);
    const k = (as / at) * (1 - (st * st * c) / (at * at * s * s + st * st));
    v = k * k * v + ss * ss * c;
  }
  return v / alphaAt(g(0)) ** 2 / (s * s);
}

test('ancestral sampling with the exact ε̂: the mean of a Gaussian target, and the variance the discrete sampler predicts', () => {
  // data x ~ N(μ, s²) per voxel: the posterior mean of ε given z_t is σ_t (z_t − α_t μ)/(α_t² s² + σ_t²)
  const cfg = lodiPreset('tiny');
  const m = new LodiModel(cfg, new Generator(1));
  const mu = 0.7;
  const s = 1.8;
  const exact = (z: Tensor, g: Tensor): Tensor => {
    const gv = g.toFloat32Array()[0]!;
    const a = alphaAt(gv);
    const sg = sigmaAt(gv);
    return z.sub(a * mu).mul(sg / (a * a * s * s + sg * sg));
  };
  const gen = new Generator(9);
  const N = 40000;
  for (const steps of [50, 1000]) {
    const out = noGrad(() =>
      tidy(() => {
        let z = F.randn([1, 1, N, 1, 1], gen);
        for (let i = steps; i >= 1; i--) {
          const prev = z;
          z = m.ancestralStep(z, F.zeros([1]), i, F.randn([1, 1, N, 1, 1], gen), exact, steps);
          prev.dispose();
        }
        return m.finalEstimate(z).toFloat32Array();
      }),
    );
    let mean = 0;
    for (const v of out) mean += v / N;
    let vr = 0;
    for (const v of out) vr += (v - mean) ** 2 / (N - 1);
    // sampling error of the mean: s/√N ≈ 0.009; of the variance: relative √(2/N) ≈ 0.7%
    assert.ok(Math.abs(mean - mu) < 0.04, `${steps} steps: mean ${mean}`);
    const want = analyticVariance(s, steps);
    assert.ok(Math.abs(vr / (s * s) - want) < 0.03, `${steps} steps: variance ratio ${vr / (s * s)}, analytic ${want}`);
    if (steps === 1000) assert.ok(Math.abs(vr / (s * s) - 1) < 0.04, `1000 steps: variance ratio ${vr / (s * s)}`);
  }
  // the discrete-step variance deficit is real and shrinks with the number of steps
  assert.ok(analyticVariance(s, 50) < 0.8 && analyticVariance(s, 1000) > 0.98);
  m.dispose();
});

test('the denoiser is fully convolutional: the same weights run on 32^3 and 64^3, and with circular padding a shift of the input by a multiple of the coarsest stride shifts the output', () => {
  const cfg = lodiPreset('tiny');
  const m = new LodiModel(cfg, new Generator(3));
  m.eval();
  const gen = new Generator(8);
  // the output convolution starts at zero (ε̂ = z): give every weight a random value so the check means something
  noGrad(() => {
    for (const p of m.net.parameters()) p.copy_(tidy(() => F.randn(p.shape, gen).mul(0.1)));
  });
  const levels = cfg.net.widths.length;
  const step = 2 ** (levels - 1);
  noGrad(() =>
    tidy(() => {
      for (const n of [32, 64]) {
        const z = F.randn([1, 1, n, n, n], gen);
        const cond = F.randn([1, cfg.net.condChannels, n, n, n], gen);
        const t = F.full([1], 0.3);
        const out = m.net.forward(z, t, cond);
        assert.deepEqual(out.shape, [1, 1, n, n, n]);
        const o = out.toFloat32Array();
        assert.ok(o.every((v) => Number.isFinite(v)) && o.some((v) => v !== 0), `n ${n}: finite, non-zero output`);
        // shift along x by 3 coarsest strides: the output moves with it (periodic boxes, circular padding)
        const s = 3 * step;
        const shifted = m.net.forward(z.roll([s], [2]), t, cond.roll([s], [2])).toFloat32Array();
        const rolled = out.roll([s], [2]).toFloat32Array();
        let worst = 0;
        for (let i = 0; i < o.length; i++) worst = Math.max(worst, Math.abs(shifted[i]! - rolled[i]!));
        assert.ok(worst < 1e-4, `n ${n}: shift equivariance off by ${worst}`);
      }
    }),
  );
  m.dispose();
});

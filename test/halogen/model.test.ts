import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, noGrad, tidy } from '@lodi/torch';
import { HalogenNet } from '../../src/halogen/model.js';
import { preset } from '../../src/halogen/config.js';

function groupIndependence(blockMin: number): void {
  const cfg = preset('tiny').model;
  cfg.blockDiagonalMin = blockMin;
  const net = new HalogenNet(cfg, 3);
  try {
    noGrad(() =>
      tidy(() => {
        const x = F.randn([2, 1, 16, 16, 16], new Generator(4));
        const before = net.forward(x).toFloat32Array();
        // perturb every parameter slice that belongs to stream 2 (of 0..3)
        for (const [, p] of net.namedParameters()) {
          const C = p.shape[0]!;
          assert.equal(C % 4, 0);
          p.narrow(0, (2 * C) / 4, C / 4).add_(0.5);
        }
        const after = net.forward(x).toFloat32Array();
        const v = 16 ** 3;
        for (let b = 0; b < 2; b++)
          for (let c = 0; c < 4; c++) {
            const s = (b * 4 + c) * v;
            let same = true;
            for (let i = 0; i < v; i++) if (before[s + i] !== after[s + i]) same = false;
            assert.equal(same, c !== 2, `sample ${b} channel ${c} ${same ? 'unchanged' : 'changed'}`);
          }
      }),
    );
  } finally {
    net.dispose();
  }
}

test('output channels are independent streams (grouped convs)', () => groupIndependence(1e9));
test('output channels are independent streams (block-diagonal dense convs)', () => groupIndependence(0));

test('grouped and block-diagonal kernels give the same output', () => {
  const a = preset('tiny').model;
  const b = { ...a, blockDiagonalMin: 0 };
  const n1 = new HalogenNet({ ...a, blockDiagonalMin: 1e9 }, 7);
  const n2 = new HalogenNet(b, 7);
  noGrad(() =>
    tidy(() => {
      const x = F.randn([1, 1, 16, 16, 16], new Generator(1));
      const d = n1.forward(x).sub(n2.forward(x)).abs().max().item();
      assert.ok(d < 1e-4, `max difference ${d}`);
    }),
  );
  n1.dispose();
  n2.dispose();
});

test('fully convolutional and periodic: any multiple of 8, translation equivariant', () => {
  const net = new HalogenNet(preset('tiny').model, 1);
  noGrad(() =>
    tidy(() => {
      const x = F.randn([1, 1, 24, 24, 24], new Generator(2));
      const y = net.forward(x);
      assert.deepEqual(y.shape, [1, 4, 24, 24, 24]);
      // a shift by a multiple of 8 (the pooling factor) commutes with the network
      const ys = net.forward(x.roll([8, 16], [2, 4]));
      const d = ys.sub(y.roll([8, 16], [2, 4])).abs().max().item();
      assert.ok(d < 1e-4, `equivariance error ${d}`);
      assert.throws(() => net.forward(F.zeros([1, 1, 12, 12, 12])), /multiple of 8/);
    }),
  );
  const d = net.describe(64);
  assert.ok(d.parameters > 0 && d.flopsPerCrop > 0);
  net.dispose();
});

/**
 * Pointwise nonlinearities selectable by name (network configs store the name). Each matches the
 * PyTorch function of the same name: F.silu, F.gelu (exact erf form), F.leaky_relu (slope 0.01),
 * F.relu.
 */
import type { Tensor } from '@lodi/torch';

export const ACTIVATIONS = ['silu', 'gelu', 'leaky_relu', 'relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Negative slope of 'leaky_relu' (PyTorch's default). */
export const LEAKY_SLOPE = 0.01;

/** Applies the named nonlinearity elementwise; throws naming the value when it is unknown. */
export function activate(x: Tensor, kind: Activation): Tensor {
  switch (kind) {
    case 'silu':
      return x.silu();
    case 'gelu':
      return x.gelu();
    case 'leaky_relu':
      return x.leakyRelu(LEAKY_SLOPE);
    case 'relu':
      return x.relu();
  }
  throw new Error(`activation: '${String(kind)}' is not one of ${ACTIVATIONS.join(', ')}`);
}

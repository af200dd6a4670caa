/** Resampling of periodic 3D grids by a factor 2 (U-Net down and up paths). */
import { F, tidy, type Tensor } from '@lodi/torch';

/**
 * Trilinear x2 upsampling that treats the volume as periodic: circular pad by 1, upsample
 * (align_corners = false), crop the 2 extra voxels per side. x [B, C, X, Y, Z] → [B, C, 2X, 2Y, 2Z];
 * commutes with periodic shifts (a shift by s becomes a shift by 2s).
 */
export function upsamplePeriodic(x: Tensor): Tensor {
  return tidy(() => {
    const n = x.shape.slice(2) as [number, number, number];
    const p = F.pad(x, [1, 1, 1, 1, 1, 1], 'circular');
    const u = F.interpolate(p, { scale: 2, mode: 'trilinear' });
    return u.narrow(2, 2, 2 * n[0]).narrow(3, 2, 2 * n[1]).narrow(4, 2, 2 * n[2]);
  });
}

/** 2x2x2 max-pooling: [B, C, X, Y, Z] → [B, C, X/2, Y/2, Z/2]; throws naming the shape when a side is odd. */
export function maxPool2(x: Tensor): Tensor {
  const n = x.shape.slice(2);
  if (n.some((s) => s % 2)) throw new Error(`maxPool2: spatial size [${n}] must be even`);
  return F.maxPool3d(x, 2);
}

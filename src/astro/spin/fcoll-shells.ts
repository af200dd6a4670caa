/**
 * The X-ray and Lyman-α sources of the 'v3 Default' model (no halos, no source grid) on the lightcone shells of
 * the spin temperature: 21cmFAST SpinTemperatureBox.c without a halo field (`fill_Rbox_table` and
 * `calculate_sfrd_from_grid`; Davies et al. 2025, Sec. 6, Table 2).
 *
 * For the receiving step z' and shell j (outer radius R_j, emission redshift z''_j), every cell's density δ(z') is
 * averaged over the sphere of radius R_j (real-space top-hat, the code's default HEAT_FILTER; the innermost shell,
 * the cell itself, unfiltered), floored at −1 and scaled linearly to z''_j, δ'' = δ_R D(z''_j)/D(z'). The shell's
 * emission per comoving volume is then
 *
 *   ρ_q(x) = (1 + δ'') n̄_b Q_q(δ'', M(R_j)) / N_b(M(R_j)) × A_q,
 *
 * with Q_q the CHMF integral of the mean galaxy relation q (SFR, or soft-band L_X) over the halos of the sphere at
 * z''_j (reion/fcoll-sources.ts, the tables of the ionisation budget) and A_q the code's mean fix
 * (`avg_fix_term = mean_sfr_zpp / ave_fcoll`): the unconditional expectation of q per baryon over the box mean of
 * Q_q/N_b, taken without the (1 + δ'') factor, as the code takes it.
 *
 * Differences from the code: L_X is the galaxy model's own relation integrated over the CHMF (the code multiplies
 * the SFRD by one L_X/SFR); no minihalos; the shells reach back no further than the run's first redshift (the
 * driver's zMaxSource), as the discrete models' gridded histories do.
 */
import { growthFactor } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import { meanFixFactor, type FcollSources } from '../reion/fcoll-sources.js';
import { tophatWindow, type FourierGrid } from '../reion/filters.js';
import type { ShellEmission, ShellSourceModel } from './driver.js';
import type { SpinShells } from './shells.js';

/** {@link ShellSourceModel} of the v3 model (see the module comment). */
export class FcollShellSources implements ShellSourceModel {
  /**
   * @param fcoll the CHMF tables of the model; its largest radius must reach the outermost shell, R_MAX_TS (in
   *   Mpc/h), or `perBaryon` throws a RangeError there.
   */
  constructor(
    private readonly fcoll: FcollSources,
    private readonly cosmo: Cosmology,
  ) {}

  emission(z: number, delta: ArrayLike<number>, shells: SpinShells, fourier: FourierGrid): ShellEmission {
    const dzp = growthFactor(this.cosmo, z);
    const fk = fourier.forward(delta);
    const at = (j: number): { sfr: Float64Array; xray: Float64Array } => {
      const R = shells.rOuter[j]!;
      const zpp = shells.zCentre[j]!;
      // the code does not filter on the cell's own radius
      const dR = shells.rInner[j]! > 0 ? fourier.apply(fk, fourier.window((k) => tophatWindow(k * R))) : Float64Array.from(delta);
      const g = growthFactor(this.cosmo, zpp) / dzp;
      for (let i = 0; i < dR.length; i++) dR[i] = Math.max(dR[i]!, -1) * g;
      const src = this.fcoll.atRedshift(zpp);
      const [sfr, xray] = src.perBaryon(R, dR, ['sfr', 'lx']).values as [Float64Array, Float64Array];
      // the code's avg_fix_term (the mean taken without (1 + δ'')); per baryon → per (Mpc/h)^3; L_X in 10^38 erg/s
      const cSfr = meanFixFactor(sfr, src.expectedPerBaryon.sfr) * src.meanBaryonDensity;
      const cLx = meanFixFactor(xray, src.expectedPerBaryon.lx) * src.meanBaryonDensity * 1e-38;
      for (let i = 0; i < dR.length; i++) {
        const w = 1 + dR[i]!;
        sfr[i] = sfr[i]! * w * cSfr;
        xray[i] = xray[i]! * w * cLx;
      }
      return { sfr, xray };
    };
    return { at, dispose: () => fk.dispose() };
  }
}

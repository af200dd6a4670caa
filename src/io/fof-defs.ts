/** Halo mass definitions of FoF/Subfind catalogues and the `Group/` datasets that hold them. */
export const MASS_DEFINITIONS = {
  fof: 'GroupMass',
  crit200: 'Group_M_Crit200',
  crit500: 'Group_M_Crit500',
  mean200: 'Group_M_Mean200',
  tophat200: 'Group_M_TopHat200',
} as const;
export type MassDefinition = keyof typeof MASS_DEFINITIONS;

/** The master's side of drover (onDemand.ts), loaded on first use: a worker never loads it. */
export const masterSide = (): Promise<MasterSide> => import('./onDemand.js');

export type MasterSide = typeof import('./onDemand.js');

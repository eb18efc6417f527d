/** The master's side of drover (onDemand.ts): a worker never loads it. */
export type MasterSide = typeof import('./onDemand.js');

let loaded: MasterSide | undefined;

/**
 * The full entry (entries/default.ts) loads the master's side at import and hands it over here,
 * so a master starting does not go through the module loader again.
 */
export function provideMasterSide(side: MasterSide): void {
  loaded = side;
}

/** The master's side, loaded on first use where the entry did not load it (a worker). */
export async function masterSide(): Promise<MasterSide> {
  loaded ??= await import('./onDemand.js');
  return loaded;
}

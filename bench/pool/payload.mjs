/** The no-op task every pool benchmark sends: about 70 bytes of JSON, as in the research's IPC runs. */
export function task(id) {
  return { id, name: 'resize', args: { w: 640, h: 480 } };
}

import { ensureBuilt } from './cluster';

/** One build for every script (reused when it exists; LOAD_REBUILD=1 forces a new one). */
export default function setup() {
  ensureBuilt();
}

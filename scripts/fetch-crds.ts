/**
 * `npx projen crds` (run by `npx projen build` before compiling): fetches the pinned Istio and Gateway API CRDs of
 * every supported Istio minor with Go into the cache (scripts/crds.ts says which and why), verifies them and lists
 * them. A warm cache takes no download and no `go` process.
 */
import * as path from 'path';
import { cacheDir, CRD_SETS, crdFiles, CRDS_DIR_ENV, overrideDir } from './crds';

const start = Date.now();
const dir = overrideDir();
if (dir) {
  console.log(`crds: ${CRDS_DIR_ENV}=${dir}: nothing to fetch`);
} else {
  const cache = cacheDir();
  for (const set of CRD_SETS) {
    const files = crdFiles(set, cache);
    console.log(`crds: Istio ${set.name}: ${set.modules.map((m) => `${m.module}@${m.version}`).join(', ')} (${files.length} files, sha256 verified)`);
  }
  console.log(`crds: cache ${path.join(cache, 'gomodcache')}; ${Date.now() - start} ms`);
}

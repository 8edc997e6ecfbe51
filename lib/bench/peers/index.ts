/** Every peer library `rewardkit bench` measures beside rewardkit (each probes whether it is installed). */
import type { Peer } from '../types.js';
import { pythonPeers } from './python.js';
import { tfjsPeers } from './tfjs.js';

export function allPeers(): Peer[] {
  return [...pythonPeers(), ...tfjsPeers()];
}

// SCALING_TARGET=none: the leader decides and records, and nobody acts on it.
import type { ScalingTarget } from "./types";

export function noTarget(): ScalingTarget {
  return {
    kind: "none",
    observe: async () => ({ currentReplicas: null, members: null }),
    apply: async () => ({ outcome: "recommended", scaleChange: 0 }),
  };
}

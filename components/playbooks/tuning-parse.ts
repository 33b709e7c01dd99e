/** Parsers for the tuning state read from hosts and guests (`ethtool -a`, `ethtool -k`, cpufreq). Pure. */

export interface PauseState {
  readonly autoneg: "on" | "off";
  readonly rx: "on" | "off";
  readonly tx: "on" | "off";
}

/** Short `ethtool -K` names of the offloads the tuning turns off, with the names `ethtool -k` prints. */
export const OFFLOADS: Readonly<Record<string, string>> = {
  tso: "tcp-segmentation-offload",
  gso: "generic-segmentation-offload",
  gro: "generic-receive-offload",
  lro: "large-receive-offload",
  rx: "rx-checksumming",
  tx: "tx-checksumming",
  sg: "scatter-gather",
};

/** `ethtool -a IF` ("Autonegotiate:\ton", "RX:\t\ton", "TX:\t\toff"); undefined if not in that form. */
export function parsePause(text: string): PauseState | undefined {
  const value = (label: string): "on" | "off" | undefined => {
    const m = new RegExp(`^${label}:\\s*(on|off)\\s*$`, "m").exec(text);
    return m ? (m[1] as "on" | "off") : undefined;
  };
  const autoneg = value("Autonegotiate");
  const rx = value("RX");
  const tx = value("TX");
  return autoneg && rx && tx ? { autoneg, rx, tx } : undefined;
}

export interface FeatureState {
  readonly on: boolean;
  /** "[fixed]": the driver does not let it change. */
  readonly fixed: boolean;
}

/** `ethtool -k IF` → feature name → state, for the features in OFFLOADS (by short name). */
export function parseOffloads(text: string): Record<string, FeatureState> {
  const out: Record<string, FeatureState> = {};
  for (const [short, long] of Object.entries(OFFLOADS)) {
    const m = new RegExp(`^${long}:\\s*(on|off)(\\s*\\[(?:fixed|requested \\w+)\\])?`, "m").exec(text);
    if (m) out[short] = { on: m[1] === "on", fixed: (m[2] ?? "").includes("fixed") };
  }
  return out;
}

/** Lines "PATH GOVERNOR" (one per CPU) → path → governor. */
export function parseGovernors(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\/sys\/\S+\/scaling_governor)\s+(\S+)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// The providers form edits deployments as text, one per line: `model = upstream-model * weight`
// (the weight is optional, 1 by default). Pure, client-safe.

export interface DeploymentLine {
  modelName: string;
  upstreamModel: string;
  weight: number;
}

const LINE = /^([^\s=*]+)\s*=\s*([^\s=*]+)\s*(?:\*\s*(\d{1,4}))?$/;

export function parseDeployments(text: string): { deployments: DeploymentLine[]; error: string | null } {
  const deployments: DeploymentLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match)
      return { deployments, error: `line ${i + 1}: expected "model = upstream-model" or "model = upstream-model * weight"` };
    deployments.push({ modelName: match[1]!, upstreamModel: match[2]!, weight: match[3] === undefined ? 1 : Number(match[3]) });
  }
  return { deployments, error: null };
}

export function formatDeployments(deployments: readonly DeploymentLine[]): string {
  return deployments.map((d) => `${d.modelName} = ${d.upstreamModel}${d.weight === 1 ? "" : ` * ${d.weight}`}`).join("\n");
}

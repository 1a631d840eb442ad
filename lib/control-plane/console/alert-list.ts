// How the alerts page orders its rules: what needs someone now first — firing, then pending,
// critical before warning — so that on a phone the first screen shows what is on fire. Silenced
// rules are listed apart: they are known and deliberately quiet.
import type { AlertRuleDto } from "./contracts";

const STATE_RANK: Record<AlertRuleDto["state"], number> = { firing: 0, pending: 1, inactive: 2 };
const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

const rank = (rule: AlertRuleDto) => [rule.enabled ? STATE_RANK[rule.state] : 3, SEVERITY_RANK[rule.severity] ?? 3] as const;

function byAttention(a: AlertRuleDto, b: AlertRuleDto): number {
  const [stateA, severityA] = rank(a);
  const [stateB, severityB] = rank(b);
  return stateA - stateB || severityA - severityB || a.name.localeCompare(b.name);
}

export function arrangeAlertRules(rules: readonly AlertRuleDto[]): { listed: AlertRuleDto[]; silenced: AlertRuleDto[] } {
  const sorted = [...rules].sort(byAttention);
  return { listed: sorted.filter((r) => !r.silence), silenced: sorted.filter((r) => r.silence) };
}

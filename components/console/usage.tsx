"use client";
// Usage: spend and tokens over time, by key, model and provider, cache savings, budget burn-down
// per key and the price table; the range as CSV. Operators read; admins set budgets and prices.
import { useId, useState, type FormEvent } from "react";
import { formatCount, formatPercent } from "@/lib/control-plane/console/charts";
import { USAGE_RANGES, type BudgetBurn, type UsageGroup, type UsageRange } from "@/lib/control-plane/usage/contracts";
import { budgetShare, formatUsd, usageChartData } from "@/lib/control-plane/usage/charts";
import { useApiKeys } from "@/components/console/hooks/console";
import { useDeletePrice, usePrices, useSetBudget, useSetPrice, useUsage, usageExportUrl } from "@/components/console/hooks/usage";
import { TimeSeriesChart } from "./charts";
import { DataTable } from "./data-table";
import { FormError } from "./form-error";
import { NumberTextField } from "./number-text-field";
import { Panel, Stat } from "./panel";
import { Can } from "./session-context";

const RANGE_LABELS: Record<UsageRange, string> = { "1h": "1 hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
const RANGE_SECONDS: Record<UsageRange, number> = { "1h": 3_600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400 };

function GroupTable({ label, rows, nameColumn }: { label: string; rows: readonly UsageGroup[]; nameColumn: string }) {
  return (
    <DataTable
      label={label}
      columns={[nameColumn, "Spend", "Requests", "Prompt tokens", "Completion tokens", "Cache hits", "Saved"]}
    >
      {rows.map((row) => (
        <tr key={row.id}>
          <td>{row.name}</td>
          <td>{formatUsd(row.costUsd)}</td>
          <td>{formatCount(row.requests)}</td>
          <td>{formatCount(row.promptTokens)}</td>
          <td>{formatCount(row.completionTokens)}</td>
          <td>{formatCount(row.cacheHits)}</td>
          <td>{formatUsd(row.savedUsd)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function Burn({ spent, budget }: { spent: number; budget: number | null }) {
  const share = budgetShare(spent, budget);
  if (share === null) return <>{formatUsd(spent)} (no budget)</>;
  const level = share >= 1 ? "over" : share >= 0.8 ? "near" : "ok";
  return (
    <span className={`burn burn-${level}`}>
      <meter
        min={0}
        max={1}
        low={0.8}
        high={0.999}
        optimum={0}
        value={Math.min(1, share)}
        aria-label={`${formatPercent(share, 0)} of ${formatUsd(budget)}`}
      />{" "}
      {formatUsd(spent)} of {formatUsd(budget)} ({formatPercent(share, 0)})
    </span>
  );
}

function BudgetTable({ rows, timeZone }: { rows: readonly BudgetBurn[]; timeZone: string }) {
  return (
    <DataTable label="Budget burn-down" columns={["Key", `Today (${timeZone})`, "This month", "Tokens per minute"]}>
      {rows.map((row) => (
        <tr key={row.keyId} data-testid="budget-row">
          <td>{row.name}</td>
          <td>
            <Burn spent={row.spentTodayUsd} budget={row.budgetDailyUsd} />
          </td>
          <td>
            <Burn spent={row.spentThisMonthUsd} budget={row.budgetMonthlyUsd} />
          </td>
          <td>{row.tpmLimit === null ? "no limit" : formatCount(row.tpmLimit)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

const numberOrNull = (text: string) => (text.trim() === "" ? null : Number(text));

function BudgetForm() {
  const keys = useApiKeys();
  const setBudget = useSetBudget();
  const [keyId, setKeyId] = useState("");
  const [daily, setDaily] = useState("");
  const [monthly, setMonthly] = useState("");
  const [tpm, setTpm] = useState("");
  const keySelectId = useId();
  const active = (keys.data?.keys ?? []).filter((k) => k.revokedAt === null);
  const choose = (id: string) => {
    setKeyId(id);
    const key = active.find((k) => k.id === id);
    setDaily(key?.budgetDailyUsd?.toString() ?? "");
    setMonthly(key?.budgetMonthlyUsd?.toString() ?? "");
    setTpm(key?.tpmLimit?.toString() ?? "");
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setBudget.mutate({
      keyId,
      budget: { budgetDailyUsd: numberOrNull(daily), budgetMonthlyUsd: numberOrNull(monthly), tpmLimit: numberOrNull(tpm) },
    });
  };
  return (
    <form className="form-row" onSubmit={onSubmit} aria-label="Set a key's budget">
      <div className="field">
        <label htmlFor={keySelectId}>Key</label>
        <select id={keySelectId} value={keyId} onChange={(e) => choose(e.target.value)} required>
          <option value="">Choose a key…</option>
          {active.map((k) => (
            <option key={k.id} value={k.id}>
              {k.name} ({k.prefix}…)
            </option>
          ))}
        </select>
      </div>
      <NumberTextField label="USD per day (empty: none)" value={daily} onChange={setDaily} min={0.000001} step="any" />
      <NumberTextField label="USD per month (empty: none)" value={monthly} onChange={setMonthly} min={0.000001} step="any" />
      <NumberTextField label="Tokens per minute (empty: none)" value={tpm} onChange={setTpm} min={1} step={1} />
      <button type="submit" className="button" disabled={setBudget.isPending || keyId === ""}>
        {setBudget.isPending ? "Saving…" : "Save budget"}
      </button>
      <FormError error={setBudget.error} />
      {setBudget.isSuccess ? <p role="status">Saved: every instance enforces it within about a second.</p> : null}
    </form>
  );
}

function PricesPanel() {
  const prices = usePrices();
  const setPrice = useSetPrice();
  const deletePrice = useDeletePrice();
  const [model, setModel] = useState("");
  const [input, setInput] = useState("");
  const [output, setOutput] = useState("");
  const [cached, setCached] = useState("");
  const modelId = useId();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setPrice.mutate({
      model: model.trim(),
      price: { inputPerMillion: Number(input), outputPerMillion: Number(output), cachedInputPerMillion: numberOrNull(cached) },
    });
  };
  return (
    <Panel title="Prices (USD per 1M tokens)" testId="panel-prices" loading={prices.isPending} error={prices.error}>
      <Can scope="prices.write">
        <form className="form-row" onSubmit={onSubmit} aria-label="Set a model's price">
          <div className="field grow">
            <label htmlFor={modelId}>Model (public or upstream name)</label>
            <input id={modelId} value={model} onChange={(e) => setModel(e.target.value)} required maxLength={200} />
          </div>
          <NumberTextField label="Input" value={input} onChange={setInput} min={0} step="any" required />
          <NumberTextField label="Output" value={output} onChange={setOutput} min={0} step="any" required />
          <NumberTextField label="Cached input (empty: as input)" value={cached} onChange={setCached} min={0} step="any" />
          <button type="submit" className="button" disabled={setPrice.isPending}>
            Set price
          </button>
        </form>
        <FormError error={setPrice.error ?? deletePrice.error} />
      </Can>
      <DataTable label="Prices" columns={["Model", "Input", "Output", "Cached input", "Source", null]}>
        {(prices.data?.prices ?? []).map((p) => (
          <tr key={p.model} data-testid="price-row">
            <td>{p.model}</td>
            <td>{p.inputPerMillion}</td>
            <td>{p.outputPerMillion}</td>
            <td>{p.cachedInputPerMillion ?? "as input"}</td>
            <td>{p.source}</td>
            <td>
              {p.source === "console" ? (
                <Can scope="prices.write">
                  <button
                    type="button"
                    className="button secondary"
                    onClick={() => deletePrice.mutate(p.model)}
                    disabled={deletePrice.isPending}
                  >
                    Remove
                  </button>
                </Can>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
    </Panel>
  );
}

export function UsageView() {
  const [range, setRange] = useState<UsageRange>("24h");
  const rangeId = useId();
  const usage = useUsage(range);
  const data = usage.data;
  const spendChart = data
    ? usageChartData(data.series, [
        { field: "costUsd", name: "Spend" },
        { field: "savedUsd", name: "Saved by the cache" },
      ])
    : undefined;
  const tokenChart = data ? usageChartData(data.series, [{ field: "tokens", name: "Tokens" }]) : undefined;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Usage</h1>
        <div className="page-tools">
          <div className="range-selector">
            <label htmlFor={rangeId}>Time range</label>
            <select id={rangeId} value={range} onChange={(e) => setRange(e.target.value as UsageRange)}>
              {USAGE_RANGES.map((r) => (
                <option key={r} value={r}>
                  Last {RANGE_LABELS[r]}
                </option>
              ))}
            </select>
          </div>
          <a className="button secondary" href={usageExportUrl(range)} download data-testid="usage-export">
            Export CSV
          </a>
        </div>
      </div>
      {usage.error && !data ? (
        <p className="state state-error" role="alert">
          {usage.error.message}
        </p>
      ) : null}
      <div className="stats" aria-label="Usage summary">
        <Stat label="Spend" value={data ? formatUsd(data.totals.costUsd) : "—"} testId="usage-spend" />
        <Stat
          label="Tokens"
          value={data ? formatCount(data.totals.promptTokens + data.totals.completionTokens) : "—"}
          testId="usage-tokens"
        />
        <Stat label="Requests" value={data ? formatCount(data.totals.requests) : "—"} testId="usage-requests" />
        <Stat label="Saved by the cache" value={data ? formatUsd(data.totals.savedUsd) : "—"} testId="usage-saved" />
      </div>
      <div className="grid">
        <Panel
          title="Spend and cache savings"
          testId="chart-spend"
          loading={usage.isPending}
          empty={!spendChart?.hasData}
          emptyText="No usage in this range yet."
        >
          {spendChart && data ? (
            <TimeSeriesChart
              data={spendChart}
              domain={[data.start, data.end]}
              format={formatUsd}
              rangeSeconds={RANGE_SECONDS[range]}
              label="Spend over time"
            />
          ) : null}
        </Panel>
        <Panel
          title="Tokens"
          testId="chart-tokens"
          loading={usage.isPending}
          empty={!tokenChart?.hasData}
          emptyText="No usage in this range yet."
        >
          {tokenChart && data ? (
            <TimeSeriesChart
              data={tokenChart}
              domain={[data.start, data.end]}
              format={(v) => formatCount(v)}
              rangeSeconds={RANGE_SECONDS[range]}
              label="Tokens over time"
              wholeNumbers
            />
          ) : null}
        </Panel>
      </div>
      <Panel
        title="Top keys"
        testId="panel-usage-keys"
        loading={usage.isPending}
        empty={data?.byKey.length === 0}
        emptyText="No usage in this range."
      >
        {data ? <GroupTable label="Usage by key" rows={data.byKey} nameColumn="Key" /> : null}
      </Panel>
      <div className="grid">
        <Panel
          title="By model"
          testId="panel-usage-models"
          loading={usage.isPending}
          empty={data?.byModel.length === 0}
          emptyText="No usage in this range."
        >
          {data ? <GroupTable label="Usage by model" rows={data.byModel} nameColumn="Model" /> : null}
        </Panel>
        <Panel
          title="By provider"
          testId="panel-usage-providers"
          loading={usage.isPending}
          empty={data?.byProvider.length === 0}
          emptyText="No usage in this range."
        >
          {data ? (
            <GroupTable label="Usage by provider" rows={data.byProvider} nameColumn="Provider (cache: hits; none: unanswered)" />
          ) : null}
        </Panel>
      </div>
      <Panel title="Budgets" testId="panel-budgets" loading={usage.isPending}>
        <Can scope="budgets.write">
          <BudgetForm />
        </Can>
        {data && data.budgets.length > 0 ? (
          <BudgetTable rows={data.budgets} timeZone={data.timeZone} />
        ) : (
          <p className="state">No key has a budget or token limit.</p>
        )}
      </Panel>
      <PricesPanel />
    </div>
  );
}

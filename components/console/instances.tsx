"use client";
// Every instance in the registry with its vital signs and a 15-minute requests-per-second sparkline.
import { useEffect, useState } from "react";
import {
  findSeries,
  formatBytes,
  formatDuration,
  formatNumber,
  formatRate,
  sparklinePoints,
} from "@/lib/control-plane/console/charts";
import { useInstances } from "@/components/console/hooks/console";
import { Panel } from "./panel";
import { Sparkline } from "./charts";
import { DataTable } from "./data-table";

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function InstancesView() {
  const query = useInstances();
  const now = useNow(1_000);
  const data = query.data;
  const rate = data && "series" in data.requestRate ? data.requestRate.series : [];
  const cpu = data && "series" in data.cpu ? data.cpu.series : [];
  return (
    <div className="page">
      <div className="page-header">
        <h1>Instances</h1>
        {data ? (
          <span className="badge">Data source: {data.source === "prometheus" ? "Prometheus" : "built-in (PostgreSQL)"}</span>
        ) : null}
      </div>
      <Panel
        title="Fleet"
        testId="panel-instances"
        loading={query.isPending}
        error={query.error}
        empty={!!data && data.instances.length === 0}
        emptyText="No instance has registered yet."
      >
        {data ? (
          <DataTable
            label="Instances"
            columns={[
              "Instance",
              "Address",
              "Status",
              "Version",
              "Uptime",
              "CPU",
              "Memory",
              "Requests/s",
              "In flight",
              "Last heartbeat",
              "Requests/s, 15 min",
              "CPU, 15 min",
            ]}
          >
            {data.instances.map((instance) => {
              const points = sparklinePoints(findSeries(rate, instance.id));
              const cpuPoints = sparklinePoints(findSeries(cpu, instance.id));
              return (
                <tr key={instance.id} data-instance-id={instance.id}>
                  <td>{instance.id}</td>
                  <td>
                    {instance.host}:{instance.port}
                  </td>
                  <td className={`status-${instance.status}`}>{instance.status}</td>
                  <td>{instance.version}</td>
                  <td>{instance.status === "dead" ? "—" : formatDuration(now - Date.parse(instance.startedAt))}</td>
                  <td>{instance.cpuPercent === null ? "—" : `${formatNumber(instance.cpuPercent)}%`}</td>
                  <td>{formatBytes(instance.rssBytes)}</td>
                  <td>{formatRate(instance.requestsPerSecond)}</td>
                  <td>{instance.inFlight === null ? "—" : instance.inFlight}</td>
                  <td title={new Date(instance.lastSeenAt).toLocaleString()}>
                    {formatDuration(now - Date.parse(instance.lastSeenAt))} ago
                  </td>
                  <td>
                    {points.some((p) => p.v !== null) ? (
                      <Sparkline points={points} label={`Requests per second of ${instance.id}, last 15 minutes`} />
                    ) : (
                      <span className="muted">no data</span>
                    )}
                  </td>
                  <td>
                    {cpuPoints.some((p) => p.v !== null) ? (
                      <Sparkline points={cpuPoints} label={`CPU of ${instance.id}, last 15 minutes`} />
                    ) : (
                      <span className="muted">no data</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </DataTable>
        ) : null}
      </Panel>
      {data && "error" in data.requestRate ? (
        <p className="state state-error">Sparklines unavailable: {data.requestRate.error}</p>
      ) : null}
    </div>
  );
}

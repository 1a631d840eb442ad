"use client";
// Batches: the fleet's queue now (queued, running, oldest waiting), who fills it (jobs per API key),
// and every batch newest first with its status and progress; narrowed to one key, paged, live.
import { useId, useState } from "react";
import type { BatchDto, BatchesResponse } from "@/lib/control-plane/console/batch-contracts";
import { batchProgress, formatAge, progressText } from "@/lib/control-plane/console/batch-views";
import { useBatches } from "@/components/console/hooks/batches";
import { useApiKeys } from "@/components/console/hooks/console";
import { DataTable } from "./data-table";
import { Panel, Stat } from "./panel";
import { Pager } from "./pager";

const count = (n: number) => n.toLocaleString("en-US");
const errorOf = (part: { error: string } | object | undefined) => (part && "error" in part ? part.error : null);

function QueuePanel({ data, loading, error }: { data: BatchesResponse | undefined; loading: boolean; error: Error | null }) {
  const queue = data && !("error" in data.queue) ? data.queue : undefined;
  return (
    <Panel title="Queue" testId="panel-batch-queue" loading={loading && !data} error={errorOf(data?.queue) ?? error}>
      <div className="stats">
        <Stat label="Queued jobs" value={queue ? count(queue.queued) : "—"} testId="batch-queued" />
        <Stat label="Running jobs" value={queue ? count(queue.running) : "—"} testId="batch-running" />
        <Stat
          label="Oldest queued job waiting"
          value={queue ? formatAge(queue.oldestQueuedAgeSeconds) : "—"}
          testId="batch-oldest"
        />
      </div>
      <p className="muted small">
        One job is one line of a batch&apos;s input file. With a queue-depth target in the scaling policy, the fleet grows to
        queued ÷ target instances.
      </p>
    </Panel>
  );
}

function ByKeyPanel({
  data,
  loading,
  onPick,
}: {
  data: BatchesResponse | undefined;
  loading: boolean;
  onPick: (keyId: string) => void;
}) {
  const keys = data && "keys" in data.byKey ? data.byKey.keys : undefined;
  return (
    <Panel
      title="Queue by API key"
      testId="panel-batch-keys"
      loading={loading && !data}
      error={errorOf(data?.byKey)}
      empty={!!keys && keys.length === 0}
      emptyText="Nothing queued or running."
    >
      {keys ? (
        <DataTable label="Queued and running jobs by API key" columns={["API key", "Queued", "Running", "Batches", ""]}>
          {keys.map((k) => (
            <tr key={k.keyId} data-key={k.keyName}>
              <th scope="row">{k.keyName}</th>
              <td>{count(k.queued)}</td>
              <td>{count(k.running)}</td>
              <td>{count(k.batches)}</td>
              <td>
                <button type="button" className="button secondary" onClick={() => onPick(k.keyId)}>
                  Show its batches
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </Panel>
  );
}

function BatchRow({ batch }: { batch: BatchDto }) {
  const share = batchProgress(batch.requestCounts);
  return (
    <tr data-batch={batch.id} data-status={batch.status}>
      <th scope="row">
        <code>{batch.id}</code>
        <div className="muted small">{batch.endpoint}</div>
      </th>
      <td>{batch.key.name}</td>
      <td>
        <span className={`pill status-${batch.status}`}>{batch.status.replace("_", " ")}</span>
        {batch.errors > 0 ? (
          <div className="muted small">
            {batch.errors} input error{batch.errors === 1 ? "" : "s"}
          </div>
        ) : null}
      </td>
      <td>
        {share === null ? null : <progress max={1} value={share} aria-label={`Progress of ${batch.id}`} />}
        <div className="small" data-testid="batch-progress">
          {progressText(batch.requestCounts)}
        </div>
        {batch.requestCounts.failed > 0 ? <div className="muted small">{count(batch.requestCounts.failed)} failed</div> : null}
      </td>
      <td>{new Date(batch.createdAt).toLocaleString()}</td>
      <td>{batch.endedAt ? new Date(batch.endedAt).toLocaleString() : <span className="muted">—</span>}</td>
    </tr>
  );
}

export function BatchesView() {
  const [keyId, setKeyId] = useState("");
  const [pages, setPages] = useState<string[]>([]);
  const after = pages[pages.length - 1];
  const query = useBatches({ keyId: keyId || undefined, after, limit: 50 });
  const apiKeys = useApiKeys();
  const keySelect = useId();
  const data = query.data;
  const page = data && "data" in data.batches ? data.batches : undefined;
  const pick = (id: string) => {
    setKeyId(id);
    setPages([]);
  };
  return (
    <div className="page">
      <div className="page-header">
        <h1>Batches</h1>
        <span className={`live ${query.isFetching ? "live-fetching" : ""}`} aria-live="off">
          {query.dataUpdatedAt ? `Live · updated ${new Date(query.dataUpdatedAt).toLocaleTimeString()}` : "Live"}
        </span>
      </div>
      <div className="grid">
        <QueuePanel data={data} loading={query.isPending} error={query.error} />
        <ByKeyPanel data={data} loading={query.isPending} onPick={pick} />
      </div>
      <form className="form-row filters" role="search" aria-label="Filter batches" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={keySelect}>API key</label>
          <select id={keySelect} value={keyId} onChange={(e) => pick(e.target.value)}>
            <option value="">All keys</option>
            {(apiKeys.data?.keys ?? []).map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </div>
      </form>
      <Panel
        title="Batches"
        testId="panel-batches"
        loading={query.isPending}
        error={errorOf(data?.batches) ?? query.error}
        empty={!!page && page.data.length === 0}
        emptyText="No batch yet."
      >
        {page ? (
          <>
            <DataTable label="Batches" columns={["Batch", "API key", "Status", "Progress", "Created", "Ended"]}>
              {page.data.map((batch) => (
                <BatchRow key={batch.id} batch={batch} />
              ))}
            </DataTable>
            <Pager pages={pages} setPages={setPages} next={page.nextAfter} />
          </>
        ) : null}
      </Panel>
    </div>
  );
}

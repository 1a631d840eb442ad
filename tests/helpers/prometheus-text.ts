// Reading the Prometheus text format a server's /metrics answers with.

/** The sample value of the series written exactly as `series` (name and label set), 0 when absent. */
export function sample(body: string, series: string): number {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

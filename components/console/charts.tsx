"use client";
// Chart components: they draw prepared data (lib/control-plane/console/charts.ts) and nothing else. Missing
// buckets are null and stay gaps (connectNulls off).
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatTick, isIsolated, type ChartData } from "@/lib/control-plane/console/charts";

const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

export interface TimeSeriesChartProps {
  data: ChartData;
  /** Formats values on the axis and in the tooltip. */
  format: (value: number) => string;
  rangeSeconds: number;
  /** The requested window, so a chart spans it even where the data starts later. */
  domain: [number, number];
  height?: number;
  /** Accessible name of the chart. */
  label: string;
  /** Counts (instances): axis ticks on whole numbers only. */
  wholeNumbers?: boolean;
}

export function TimeSeriesChart({
  data,
  format,
  rangeSeconds,
  domain,
  height = 220,
  label,
  wholeNumbers = false,
}: TimeSeriesChartProps) {
  return (
    <figure className="chart" aria-label={label} data-points={data.rows.length} data-series={data.keys.length}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 480, height }}>
        <LineChart data={data.rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={domain}
            allowDataOverflow
            tickFormatter={(t: number) => formatTick(t, rangeSeconds)}
            stroke="var(--muted)"
            fontSize={12}
            minTickGap={24}
          />
          <YAxis
            tickFormatter={(v: number) => format(v)}
            stroke="var(--muted)"
            fontSize={12}
            width={64}
            allowDecimals={!wholeNumbers}
          />
          <Tooltip
            labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
            formatter={(value) => (typeof value === "number" ? format(value) : "no data")}
            contentStyle={{ background: "var(--card)", border: "1px solid var(--border)" }}
          />
          {data.keys.length > 1 ? <Legend /> : null}
          {data.keys.map((k, i) => {
            const color = COLORS[i % COLORS.length];
            const dot = ({ cx, cy, index }: { cx?: number; cy?: number; index?: number }) =>
              cx !== undefined && cy !== undefined && index !== undefined && isIsolated(data.rows, k.key, index) ? (
                <circle key={`${k.key}-${index}`} className="isolated-point" cx={cx} cy={cy} r={3} fill={color} />
              ) : (
                <g key={`${k.key}-${index}`} />
              );
            return (
              <Line
                key={k.key}
                dataKey={k.key}
                name={k.name}
                stroke={color}
                dot={dot}
                activeDot={{ r: 4 }}
                strokeWidth={2}
                connectNulls={false}
                isAnimationActive={false}
              />
            );
          })}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function Sparkline({
  points,
  label,
  width = 140,
  height = 32,
}: {
  points: Array<{ t: number; v: number | null }>;
  label: string;
  width?: number;
  height?: number;
}) {
  return (
    <div className="sparkline" role="img" aria-label={label} style={{ width, height }}>
      <LineChart width={width} height={height} data={points} margin={{ top: 2, right: 2, bottom: 2, left: 2 }}>
        <YAxis hide domain={[0, "auto"]} />
        <Line dataKey="v" stroke="#2563eb" dot={false} strokeWidth={1.5} connectNulls={false} isAnimationActive={false} />
      </LineChart>
    </div>
  );
}

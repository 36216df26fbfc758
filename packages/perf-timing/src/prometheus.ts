import { Histogram, type Registry } from "prom-client";

type Label = "method" | "route" | "status_class";

/** The counts of one label set: per-bucket (not cumulative) counts, then the `+Inf` overflow. */
export interface DurationSeries {
  readonly labels: Readonly<Record<Label, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<Label, string>>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * prom-client's `Histogram`, fed from series perfTiming holds per route and status class.
 * prom-client's own `observe()` builds a label hash per call; here a request costs a bucket
 * search and two additions on a series found once per route. Export goes through prom-client
 * unchanged (the registry, `metrics()`, `getMetricsAsJSON()` and cluster aggregation read
 * `getForPromString()`/`get()`, which produce exactly prom-client's own value layout).
 */
export class DurationHistogram extends Histogram<Label> {
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, DurationSeries>();
  private readonly metric: { name: string; help: string };

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    super({
      name,
      help,
      labelNames: ["method", "route", "status_class"] as const,
      buckets: [...buckets],
      registers: [registry],
    });
    this.bounds = [...buckets];
    this.metric = { name, help };
  }

  /** The series of a label set, created on first use. Callers keep it and call `record`. */
  seriesFor(method: string, route: string, statusClass: string): DurationSeries {
    const key = `${method}\u0000${route}\u0000${statusClass}`;
    let series = this.series.get(key);
    if (!series) {
      series = {
        labels: Object.freeze({ method, route, status_class: statusClass }),
        counts: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    return series;
  }

  /** Adds one observation in seconds to `series`. */
  record(series: DurationSeries, seconds: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && seconds > bounds[index]!) index++;
    series.counts[index]!++;
    series.sum += seconds;
    series.count++;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if (this.series === undefined) return;
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  // prom-client's registry renders text from this; its get() (JSON, cluster aggregation) calls
  // it too and merges `sharedLabels` into `labels`.
  async getForPromString() {
    const { name, help } = this.metric;
    const bucketName = `${name}_bucket`;
    const values: ExportValue[] = [];
    for (const series of this.series.values()) {
      if (series.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push(value({ le: this.bounds[i]! }, series, cumulative, bucketName));
      }
      values.push(value({ le: "+Inf" }, series, series.count, bucketName));
      values.push(value({}, series, series.sum, `${name}_sum`));
      values.push(value({}, series, series.count, `${name}_count`));
    }
    return { name, help, type: "histogram" as const, values, aggregator: "sum" as const };
  }
}

function value(
  labels: Record<string, string | number>,
  series: DurationSeries,
  amount: number,
  metricName: string,
): ExportValue {
  return { labels, sharedLabels: series.labels, value: amount, metricName, exemplar: undefined };
}

/** The npm package benchmark 4 compares against; it ships no types. Only what the benchmark reads. */
declare module 'parse-prometheus-text-format' {
  interface MetricFamily {
    name: string;
    type: string;
    help: string;
    metrics: unknown[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}

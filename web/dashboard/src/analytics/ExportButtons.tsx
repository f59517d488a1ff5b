import { useId, useState } from "react";
import { toProblem } from "../hub/errors";

export type ExportFormat = "csv" | "json" | "xlsx";
export type ExportData = "metrics" | "activities";

export interface ExportButtonsProps {
  /** Fetches the file; resolves with the name it was saved under. */
  onExport(format: ExportFormat, data: ExportData): Promise<string>;
}

/** CSV, JSON and XLSX downloads of the metrics or of the raw activities. */
export function ExportButtons({ onExport }: ExportButtonsProps) {
  const id = useId();
  const [data, setData] = useState<ExportData>("metrics");
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  async function run(format: ExportFormat) {
    setBusy(format);
    setStatus(null);
    try {
      const name = await onExport(format, data);
      setStatus({ ok: true, text: `Downloaded ${name}` });
    } catch (err) {
      setStatus({ ok: false, text: `Export failed: ${toProblem(err).message}` });
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="export" role="group" aria-label="Export">
      <div className="field">
        <label htmlFor={id}>Export</label>
        <select
          id={id}
          className="select"
          value={data}
          onChange={(e) => setData(e.target.value as ExportData)}
        >
          <option value="metrics">Metrics</option>
          <option value="activities">Activities</option>
        </select>
      </div>
      {(["csv", "json", "xlsx"] as const).map((format) => (
        <button
          key={format}
          type="button"
          className="btn"
          disabled={busy !== null}
          onClick={() => void run(format)}
          aria-label={`Download ${data} as ${format.toUpperCase()}`}
        >
          {busy === format ? <span className="spinner" aria-hidden="true" /> : null}
          {format.toUpperCase()}
        </button>
      ))}
      <p
        className={`export-status ${status?.ok === false ? "field-error" : "muted"}`}
        role="status"
      >
        {status?.text ?? ""}
      </p>
    </div>
  );
}

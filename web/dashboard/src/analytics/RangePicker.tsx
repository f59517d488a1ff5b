import { RANGES, type RangeName } from "./metrics";

export function RangePicker({
  value,
  onChange,
}: {
  value: RangeName;
  onChange(range: RangeName): void;
}) {
  return (
    <div className="field">
      <span className="field-label" id="range-label">
        Period
      </span>
      <div className="seg" role="group" aria-labelledby="range-label">
        {RANGES.map((r) => (
          <button
            key={r.value}
            type="button"
            aria-pressed={value === r.value}
            onClick={() => onChange(r.value)}
          >
            {r.label}
          </button>
        ))}
      </div>
    </div>
  );
}

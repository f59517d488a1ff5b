import { useId, useMemo } from "react";
import { timeZones } from "./metrics";

export function TimeZonePicker({ value, onChange }: { value: string; onChange(tz: string): void }) {
  const id = useId();
  const zones = useMemo(() => {
    const list = timeZones();
    return list.includes(value) ? list : [value, ...list];
  }, [value]);
  return (
    <div className="field tz-field">
      <label htmlFor={id}>Time zone</label>
      <select id={id} className="select" value={value} onChange={(e) => onChange(e.target.value)}>
        {zones.map((z) => (
          <option key={z} value={z}>
            {z.replace(/_/g, " ")}
          </option>
        ))}
      </select>
    </div>
  );
}

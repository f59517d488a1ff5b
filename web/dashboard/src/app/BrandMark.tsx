/** The hub's logo mark, as inline SVG (no image request, CSP-friendly). */
export function BrandMark() {
  return (
    <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--color-accent)" />
      <circle cx="16" cy="16" r="5" fill="#fff" />
      <circle
        cx="16"
        cy="16"
        r="10"
        fill="none"
        stroke="#fff"
        strokeWidth="2"
        strokeOpacity=".55"
      />
    </svg>
  );
}

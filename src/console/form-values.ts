// Form fields as admin operation input: text as given (empty = absent), comma lists as arrays,
// checkboxes as booleans. The operation's own schema then checks every value.

export const text = (form: Readonly<Record<string, string>>, name: string): string | undefined => {
  const v = form[name]?.trim();
  return v ? v : undefined;
};

export const required = (form: Readonly<Record<string, string>>, name: string): string => form[name]?.trim() ?? '';

export const csv = (form: Readonly<Record<string, string>>, name: string): string[] | undefined => {
  const v = text(form, name);
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
};

export const checked = (form: Readonly<Record<string, string>>, name: string): boolean => form[name] === 'yes';

/** Keeps only the defined entries (an absent field is left out of the JSON body). */
export const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const offsetOf = (query: Readonly<Record<string, string>>): number => {
  const n = Number(query.offset ?? 0);
  return Number.isSafeInteger(n) && n >= 0 && n <= 10_000_000 ? n : 0;
};

/** A setting the app cannot start without: a clear error at start instead of a failed login later. */
export function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}
